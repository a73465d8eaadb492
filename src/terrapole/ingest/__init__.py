"""Turn products (THEIA MUSCATE, Sen2Cor SAFE, GeoTIFF) into COGs and STAC items."""
