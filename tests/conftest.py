"""Shared fixtures: the offline dataset, the bundled model loaded once, and a tiny model."""

import os

import pytest
from helpers import SHARED_TFDS


@pytest.fixture(autouse=True, scope="session")
def decode_in_the_graph():
    """The tests decode many small batches of many sizes, and XLA compiles each size anew
    (seconds): they run the graph, as the commands do; tests/test_sampling.py runs XLA."""
    from groove_vae import api

    api.GrooveVAE.jit_max_batch = 0


@pytest.fixture(scope="session")
def tfds_data_dir():
    path = os.environ.get("TFDS_DATA_DIR") or SHARED_TFDS
    if not os.path.isdir(os.path.join(path, "groove", "4bar-midionly")):
        pytest.skip(f"The Groove MIDI Dataset is not at {path} (see docs/data.md: Data, offline).")
    os.environ["TFDS_DATA_DIR"] = os.path.abspath(path)
    return os.path.abspath(path)


@pytest.fixture(scope="session")
def bundled_vae():
    """The bundled model, loaded and traced once for the web app's tests."""
    from groove_vae import api
    from groove_vae.webapp.app import warm_up

    vae = api.load()
    warm_up(vae)
    return vae


@pytest.fixture(scope="module")
def vae():
    """A tiny untrained groovae_4bar model behind the API (helpers.tiny_config), one per test
    file; a file that needs another model defines its own `vae`."""
    from helpers import tiny_config

    from groove_vae import api
    from groove_vae.model import build_model

    return api.GrooveVAE(build_model(tiny_config()))
