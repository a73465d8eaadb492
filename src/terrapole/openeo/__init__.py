"""openEO API 1.2 over terrapole: process graphs on the catalogue's products, run as jobs."""
