"""groove-vae: a TensorFlow 2 / Keras MusicVAE for 4-bar drum grooves."""

import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "groove_vae", "__init__.py")) as f:
    VERSION = re.search(r'__version__ = "([^"]+)"', f.read()).group(1)

setup(
    name="groove-vae",
    version=VERSION,
    description="MusicVAE for drums in TensorFlow 2 / Keras 3: sample, reconstruct and humanize grooves.",
    long_description=open(os.path.join(HERE, "README.md")).read() if os.path.exists(os.path.join(HERE, "README.md")) else "",
    long_description_content_type="text/markdown",
    # The named configs live in the checkout's top-level configs/ and ship inside the package
    # as groove_vae/named_configs/, so --config=NAME works from a checkout and a wheel alike.
    packages=find_packages(include=["groove_vae", "groove_vae.*"]) + ["groove_vae.named_configs"],
    package_dir={"groove_vae.named_configs": "configs"},
    package_data={"groove_vae": ["bundled/*/*", "webapp/static/*"], "groove_vae.named_configs": ["*.json"]},
    entry_points={"console_scripts": ["groove-vae=groove_vae.commands:main"]},
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.16",
        # groove_vae/lstm.py overrides keras.layers.LSTM.inner_loop, which is not public
        # API: pinned to the minor versions its tests pass with (tests/test_lstm.py).
        "keras>=3.15,<3.16",
        "tensorflow-datasets>=4.9",
        "tensorboard>=2.16",
        "note-seq>=0.0.5",
        "mido>=1.2.9",
        "pretty-midi>=0.2.10",
        "numpy>=1.23",
        "absl-py>=1.0",
        "h5py>=3.0",
        "pillow>=9.0",
        # The web app (groove-vae serve).
        "fastapi>=0.100",
        "uvicorn>=0.20",
        "python-multipart>=0.0.9",
    ],
    extras_require={
        "serving": ["requests>=2.20", "tensorflow-serving-api>=2.16"],
        "test": ["pytest>=7", "pytest-xdist>=3", "hypothesis>=6", "requests>=2.20", "tensorflow-serving-api>=2.16", "selenium>=4.10"],
    },
)
