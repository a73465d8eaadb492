"""Maps: tiles, previews and point values of catalogued items (titiler.core), presets, WMS."""
