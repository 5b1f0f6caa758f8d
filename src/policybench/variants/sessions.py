"""A runtime session opened on an exported ONNX file: ONNX Runtime's or OpenVINO's, on the CPU."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from policybench.variants.table import Variant


@dataclass
class Session:
    """An opened runtime: ``run`` takes the graph's inputs by name and returns its outputs in order."""

    inputs: list[str]  # the names the graph reads (the exporter drops inputs the module never uses)
    run: Callable[[dict], list]
    settings: dict[str, object]  # runtime, version and options, for the results and the manifest


def openvino_capabilities() -> list[str]:
    """What OpenVINO finds on this CPU, e.g. ['BF16', 'FP32', 'INT8', ...]."""
    import openvino as ov

    return [str(c) for c in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")]


def _onnxruntime_session(path: str, variant: Variant, outputs: list[str]) -> Session:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # the threads eager gets
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    settings = {
        "name": "onnxruntime",
        "version": ort.__version__,
        "provider": "CPUExecutionProvider",
        "threads": options.intra_op_num_threads,
    }
    return Session([i.name for i in session.get_inputs()], lambda feed: session.run(outputs, feed), settings)


def _openvino_session(path: str, variant: Variant, outputs: list[str]) -> Session:
    import openvino as ov

    precision = "bf16" if variant.dtype == "bfloat16" else "f32"
    config = {
        "INFERENCE_PRECISION_HINT": precision,
        "INFERENCE_NUM_THREADS": torch.get_num_threads(),
        "PERFORMANCE_HINT": "LATENCY",
    }
    compiled = ov.Core().compile_model(path, "CPU", config)
    request = compiled.create_infer_request()
    ports = [compiled.output(name) for name in outputs]

    def run(feed: dict) -> list:
        result = request.infer(feed, share_inputs=True)  # outputs are copies (share_outputs=False)
        return [result[p] for p in ports]

    settings = {
        "name": "openvino",
        "version": ov.__version__,
        "device": "CPU",
        **config,
        "capabilities": openvino_capabilities(),
    }
    return Session([i.get_any_name() for i in compiled.inputs], run, settings)


SESSIONS = {"onnxruntime": _onnxruntime_session, "openvino": _openvino_session}
