"""The STAC API adapter: stac-fastapi over a catalogue Store, mounted at /stac."""

from terrapole.stac_api.factory import create_stac_api

__all__ = ["create_stac_api"]
