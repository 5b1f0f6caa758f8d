"""An exported ONNX model quantized to int8 for its runtime, before the session opens on it.

ONNX Runtime (``onnxruntime.quantization``): ``dynamic`` quantizes the weights to int8 and the
activations at each call from their own range (MatMulInteger, ConvInteger); ``static`` writes
QDQ pairs for int8 weights (per channel) and activations whose scales come from the calibration
feeds (MinMax). OpenVINO (NNCF, on the model OpenVINO reads from the ONNX file): ``weights`` is
``nncf.compress_weights`` (INT8_ASYM, per output channel; OpenVINO decompresses them inside its
kernels); ``static`` is ``nncf.quantize`` with its defaults (symmetric activations, fast bias
correction) on the calibration feeds, saved as OpenVINO IR (.xml and .bin).

Each returns the quantized model's path, beside the exported one, and a record of what was done
for the results and the manifest. The tools' progress bars and log lines are kept off the
table's streams.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from policybench.variants.table import DYNAMIC, STATIC, WEIGHTS, Variant

Feeds = list[dict[str, np.ndarray]]  # the graph's inputs by name, one dict per calibration call


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """stdout, stderr, warnings and the tools' loggers (NNCF's; ONNX Runtime's on the root logger;
    torch's note, as NNCF imports it, that it finds no CUDA) held back inside; all put back after."""
    loggers = [logging.getLogger(name) for name in (None, "nncf", "torch.utils.cpp_extension")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def graph_inputs(path: str) -> list[str]:
    """The names of the inputs an ONNX file reads (the exporter drops those the module never uses)."""
    import onnx

    return [i.name for i in onnx.load(path, load_external_data=False).graph.input]


def quantize_model(path: str, variant: Variant, feeds: Feeds | None) -> tuple[str, dict[str, object]]:
    """``path`` (an exported ONNX file) quantized as ``variant`` says; ``feeds``: the calibration
    inputs (a static variant's; None otherwise). Returns the quantized model's path and the record."""
    start = time.perf_counter()
    how = variant.quantize
    if how == STATIC and not feeds:
        raise ValueError("static quantization needs calibration inputs and got none")
    with _quiet():
        if variant.runtime == "onnxruntime" and how in (DYNAMIC, STATIC):
            out, record = _onnxruntime(path, how, feeds)
        elif variant.runtime == "openvino" and how in (WEIGHTS, STATIC):
            out, record = _openvino(path, how, feeds)
        else:
            raise ValueError(f"no {how} quantization for {variant.runtime}")
    files = [f for f in Path(out).parent.iterdir() if f.name.startswith(Path(out).stem)]
    return out, {
        **record,
        "seconds": time.perf_counter() - start,
        "model_bytes": sum(f.stat().st_size for f in files),
    }


def _onnxruntime(path: str, how: str, feeds: Feeds | None) -> tuple[str, dict[str, object]]:
    import onnxruntime
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic
    from onnxruntime.quantization import quantize_static

    out = str(Path(path).with_name("model.int8.onnx"))
    external = len(list(Path(path).parent.iterdir())) > 1  # weights in a data file beside the model
    tool = f"onnxruntime.quantization {onnxruntime.__version__}"
    if how == DYNAMIC:
        quantize_dynamic(path, out, weight_type=QuantType.QInt8, use_external_data_format=external)
        return out, {"tool": tool, "method": "quantize_dynamic: int8 weights, activations quantized at each call"}

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter(feeds or [])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    quantize_static(
        path,
        out,
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        use_external_data_format=external,
    )
    method = "quantize_static: QDQ, int8 weights (per channel) and activations (MinMax scales from the calibration)"
    return out, {"tool": tool, "method": method}


def _openvino(path: str, how: str, feeds: Feeds | None) -> tuple[str, dict[str, object]]:
    import nncf
    import openvino as ov

    model = ov.Core().read_model(path)
    tool = f"nncf {nncf.__version__}, openvino {ov.__version__}"
    if how == WEIGHTS:
        quantized = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
        method = "nncf.compress_weights INT8_ASYM: int8 weights per output channel; activations in f32"
    else:
        quantized = nncf.quantize(model, nncf.Dataset(feeds or []), subset_size=len(feeds or []))
        method = "nncf.quantize (defaults: performance preset, fast bias correction): int8 weights and activations"
    out = str(Path(path).with_name("model.int8.xml"))
    ov.save_model(quantized, out, compress_to_fp16=False)
    return out, {"tool": tool, "method": method}
