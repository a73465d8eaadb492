"""HTTP adapters other than the STAC API: asset downloads and admin ingest."""
