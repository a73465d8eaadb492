"""Server-rendered pages for people: search, item, collection, compare (Jinja2 + MapLibre)."""
