"""The catalogue core: the STAC model and query model, the Store protocol and its SQLite and
pgstac implementations, and the search helpers every pillar may use."""
