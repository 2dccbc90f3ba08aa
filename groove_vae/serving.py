"""Client side of TF Serving: request bodies, gRPC requests, and responses -> drum tensors.

The exported SavedModel (groove_vae/export.py) has three signatures; this module
builds what TF Serving expects for each, over REST (JSON, columnar "inputs" or row
"instances" form) and gRPC (tensorflow-serving-api's PredictRequest), and turns the
replies back into groove tensors [batch, 64, 27] so the project's tensor -> MIDI
code writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from groove_vae.drums import NUM_CLASSES

INPUT_DTYPES = {
    "z": np.float32,
    "temperature": np.float32,
    "seed": np.int32,
    "batch_size": np.int32,
    "groove": np.float32,
    "style": np.str_,
    "strength": np.float32,
    "amounts": np.float32,
    "lows": np.float32,
    "highs": np.float32,
}
BATCHED_INPUTS = {"z", "groove"}  # The rest are scalars (and steer's amounts, one per attribute).
SIGNATURE_INPUTS = {
    "serving_default": ("z", "temperature", "seed"),
    "sample": ("batch_size", "temperature", "seed", "style", "strength"),
    "steer": ("z", "amounts", "temperature", "seed"),
    "constrain": ("batch_size", "lows", "highs", "style", "temperature", "seed"),
    "encode": ("groove",),
    "drumify": ("groove", "temperature", "seed"),
}
# What a Drumify model (decoder_controls) exports as serving_default: the client calls it "drumify".
SERVED_AS = {"drumify": "serving_default"}


class ServingError(RuntimeError):
    """A request the server refused, or a reply this client cannot read."""


def example_inputs(signature: str, num_output: int = 1, z_size: int = 256, temperature: float = 1.0,
                   seed: int = 0, groove: np.ndarray | None = None, style: str | None = None,
                   strength: float = 1.0, attributes: Mapping[str, float] | None = None,
                   constraints: str | None = None) -> dict[str, Any]:
    """The inputs the client sends: a batch size (and a style to steer toward, or the
    ranges of `constraints`), random latents from `seed` (with attribute amounts, for
    steer), or a groove."""
    if signature == "constrain":
        from groove_vae.attributes import ATTRIBUTES
        from groove_vae.constraints import Constraints

        if not constraints:
            raise ValueError("constrain needs constraints, e.g. density=20..30,timekeeper=ride.")
        wanted = Constraints.parse(constraints)
        no_bound = 1e9  # Beyond every attribute's valid range: JSON has no infinity.
        lows = [max(wanted.ranges.get(name, (-no_bound, no_bound))[0], -no_bound) for name in ATTRIBUTES]
        highs = [min(wanted.ranges.get(name, (-no_bound, no_bound))[1], no_bound) for name in ATTRIBUTES]
        return {"batch_size": num_output, "lows": lows, "highs": highs, "style": wanted.style or "",
                "temperature": temperature, "seed": seed}
    if signature == "sample":
        steering = {} if style is None else {"style": style, "strength": strength}
        return {"batch_size": num_output, "temperature": temperature, "seed": seed, **steering}
    if signature in ("serving_default", "steer"):
        z = np.random.default_rng(seed).standard_normal((num_output, z_size)).round(3)
        if signature == "serving_default":
            return {"z": z, "temperature": temperature, "seed": seed}
        from groove_vae.attributes import ATTRIBUTES, check_amounts

        check_amounts(dict(attributes or {}), list(ATTRIBUTES))
        amounts = [float((attributes or {}).get(name, 0.0)) for name in ATTRIBUTES]
        return {"z": z, "amounts": amounts, "temperature": temperature, "seed": seed}
    if groove is None:
        raise ValueError(f"{signature} needs a groove tensor [steps, 27] (from a MIDI file).")
    if signature == "drumify":
        return {"groove": np.asarray(groove)[None], "temperature": temperature, "seed": seed}
    return {"groove": np.asarray(groove)[None]}


def batched_only(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs the row ("instances") form can carry."""
    return {k: v for k, v in inputs.items() if k in BATCHED_INPUTS}


def check_inputs(signature: str, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Validates names against the signature and casts values to its dtypes."""
    if signature not in SIGNATURE_INPUTS:
        raise ValueError(f"Unknown signature {signature!r}; expected one of {', '.join(SIGNATURE_INPUTS)}.")
    unknown = set(inputs) - set(SIGNATURE_INPUTS[signature])
    if unknown:
        raise ValueError(f"Signature {signature} has no input(s) {sorted(unknown)}; it takes {SIGNATURE_INPUTS[signature]}.")
    return {k: np.asarray(v, INPUT_DTYPES[k]) for k, v in inputs.items()}


def _json_value(array: np.ndarray):
    """float32 values print as their shortest decimal, not as float64 noise."""
    if array.dtype == np.float32:
        return np.round(array.astype(np.float64), 6).tolist()
    return array.tolist()


def rest_body(signature: str, inputs: Mapping[str, Any], form: str = "inputs") -> dict:
    """A TF Serving REST predict body.

    "inputs" (columnar) carries every input as it is. "instances" (row) carries one
    object per batch row, so only batched inputs (z, groove) can go in it; the
    scalars then take the defaults recorded in the SignatureDef.
    """
    arrays = check_inputs(signature, inputs)
    signature = SERVED_AS.get(signature, signature)
    if form == "inputs":
        return {"signature_name": signature, "inputs": {k: _json_value(v) for k, v in arrays.items()}}
    if form != "instances":
        raise ValueError(f"form must be 'inputs' or 'instances', got {form!r}.")
    scalars = sorted(set(arrays) - BATCHED_INPUTS)
    if scalars or not arrays:
        raise ValueError(
            f"The instances (row) form carries only batched inputs; {signature} got {scalars or 'none'}. "
            "Use the inputs (columnar) form."
        )
    batch = {len(v) for v in arrays.values()}.pop()
    return {"signature_name": signature, "instances": [{k: _json_value(v[i]) for k, v in arrays.items()} for i in range(batch)]}


def outputs_from_rest_response(reply: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A REST predict reply ({"outputs": ...} or {"predictions": [...]}) -> named arrays."""
    if "error" in reply:
        raise ServingError(f"The server refused the request: {reply['error']}")
    if "outputs" in reply:
        outputs = reply["outputs"]
        if not isinstance(outputs, Mapping):
            raise ServingError("The reply has one unnamed output; expected named outputs.")
        return {k: np.asarray(v, np.float32) for k, v in outputs.items()}
    if "predictions" in reply:
        rows = reply["predictions"]
        if not rows or not isinstance(rows[0], Mapping):
            raise ServingError("The reply's predictions are not named outputs.")
        return {k: np.asarray([row[k] for row in rows], np.float32) for k in rows[0]}
    raise ServingError(f"Not a TF Serving predict reply (keys: {sorted(reply)}).")


def outputs_to_groove(outputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """hits, velocities, offsets [batch, steps, 9] -> groove tensors [batch, steps, 27]."""
    missing = {"hits", "velocities", "offsets"} - set(outputs)
    if missing:
        raise ServingError(f"The reply lacks output(s) {sorted(missing)}.")
    parts = [np.asarray(outputs[k], np.float32) for k in ("hits", "velocities", "offsets")]
    if any(p.ndim != 3 or p.shape[-1] != NUM_CLASSES for p in parts):
        raise ServingError(f"Expected [batch, steps, {NUM_CLASSES}] outputs, got {[p.shape for p in parts]}.")
    if not all(np.all(np.isfinite(p)) for p in parts):
        raise ServingError("The reply holds values that are not finite (NaN or Inf): not a beat.")
    return np.concatenate(parts, axis=-1)


def post_rest(server: str, model_name: str, body: Mapping, version: int | None = None, timeout: float = 60.0) -> dict:
    """POSTs a predict body to a TF Serving REST endpoint; returns the decoded reply."""
    import requests

    path = f"/v1/models/{model_name}" + (f"/versions/{version}" if version else "") + ":predict"
    try:
        response = requests.post(server.rstrip("/") + path, json=body, timeout=timeout)
    except requests.RequestException as e:
        raise ServingError(f"Cannot reach {server}: {e}") from None
    try:
        reply = response.json()
    except ValueError:
        raise ServingError(f"{server}{path} answered {response.status_code} with no JSON: {response.text[:200]}") from None
    if response.status_code != 200:
        raise ServingError(f"{server}{path} answered {response.status_code}: {reply.get('error', reply)}")
    return reply


def predict_request(model_name: str, signature: str, inputs: Mapping[str, Any], version: int | None = None):
    """A tensorflow-serving-api PredictRequest for gRPC."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = SERVED_AS.get(signature, signature)
    if version:
        request.model_spec.version.value = version
    for key, value in check_inputs(signature, inputs).items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return request


def outputs_from_predict_response(response) -> dict[str, np.ndarray]:
    import tensorflow as tf

    return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}


def predict_grpc(target: str, request, timeout: float = 60.0) -> dict[str, np.ndarray]:
    """Sends a PredictRequest to a TF Serving gRPC endpoint (host:port)."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            return outputs_from_predict_response(stub.Predict(request, timeout=timeout))
        except grpc.RpcError as e:
            raise ServingError(f"{target} refused the request: {e.code().name}: {e.details()}") from None
