"""openEO process graphs evaluated over the cube layer: the graph model and validation
(``graph``), loading collections into data cubes (``cube``) and output formats (``formats``).
The openEO jobs (batch jobs, synchronous results) are jobs: ``terrapole.jobs.openeo_batch``.
"""
