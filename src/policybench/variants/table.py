"""The acceleration variants by name, and what each needs; no torch here, so that settings and
the CLI can read and check variant names without loading it."""

from __future__ import annotations

from dataclasses import dataclass

from policybench.errors import UsageError
from policybench.variants.precision import BF16, FP16, FP32, INT8

# How a runtime variant quantizes the exported model (variants/quantize.py): its weights only
# (NNCF's weight compression), its weights with its activations quantized at each call (ONNX
# Runtime's dynamic quantization), or weights and activations with scales calibrated beforehand on
# observations (the calibration set: variants/calibration.py)
WEIGHTS, DYNAMIC, STATIC = "weights", "dynamic", "static"


@dataclass(frozen=True)
class Variant:
    name: str
    help: str
    tolerance: float  # relative error allowed against fp32 eager
    dtype: str | None = None  # autocast dtype (a torch dtype's name); with a runtime, the runtime's inference precision
    compile: bool = False
    skip_eval_walk: bool = False
    cudagraph: bool = False
    runtime: str | None = None  # deployment runtime that runs the exported part (variants/runtimes.py)
    quantize: str | None = None  # WEIGHTS, DYNAMIC or STATIC: the exported model quantized to int8 first
    cast_weights: bool = False  # the weights and inputs cast to dtype (variants/cast.py), not autocast

    @property
    def precision(self) -> str:
        """The number format its matrix products run in (variants/precision.py), which its roofline
        floor is charged at: int8 when quantized (weights only too: its floor is the lowest of
        the int8 ones, never above what the runtime reaches), else its dtype's, fp32 without one."""
        return INT8 if self.quantize else _PRECISION_OF_DTYPE[self.dtype]

    @property
    def calibrated(self) -> bool:
        """Its activation scales come from a calibration set, which the results name."""
        return self.quantize == STATIC


_PRECISION_OF_DTYPE = {None: FP32, "bfloat16": BF16, "float16": FP16}


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("eager", "the policy as LeRobot runs it (the reference)", 1e-4),
        Variant(
            "noeval",
            "no self.eval() walk over every submodule on each select_action call (the policy stays in eval mode)",
            1e-4,
            skip_eval_walk=True,
        ),
        Variant("bf16", "torch.autocast to bfloat16", 2e-2, dtype="bfloat16"),
        Variant(
            "bf16-weights",
            "the policy's weights and float inputs cast to bfloat16 once (not at each call, as autocast does), "
            "autocast kept on for the tensors the policy makes in fp32",
            2e-2,
            dtype="bfloat16",
            cast_weights=True,
        ),
        Variant("fp16", "torch.autocast to float16", 2e-2, dtype="float16"),
        Variant("compile", "torch.compile of the policy's heavy modules", 1e-4, compile=True),
        Variant(
            "cudagraph",
            "the whole refill captured once as one CUDA graph and replayed (CUDA only)",
            1e-4,
            cudagraph=True,
        ),
        Variant(
            "cudagraph-bf16",
            "the CUDA graph of the refill under bfloat16 autocast (CUDA only)",
            2e-2,
            dtype="bfloat16",
            cudagraph=True,
        ),
        Variant(
            "onnxruntime",
            "the policy's heavy part exported to ONNX and run by ONNX Runtime (CPU provider)",
            1e-4,
            runtime="onnxruntime",
        ),
        Variant(
            "openvino", "the exported part run by OpenVINO on the CPU, precision hint f32", 1e-4, runtime="openvino"
        ),
        Variant(
            "openvino-bf16",
            "the exported part run by OpenVINO in bfloat16 (its default where the CPU has bf16)",
            2e-2,
            dtype="bfloat16",
            runtime="openvino",
        ),
        Variant(
            "onnxruntime-int8",
            "the exported part dynamically quantized by ONNX Runtime (int8 weights, activations quantized at each "
            "call) and run by it",
            2e-2,
            runtime="onnxruntime",
            quantize=DYNAMIC,
        ),
        Variant(
            "onnxruntime-int8-static",
            "the exported part statically quantized by ONNX Runtime (int8 weights and activations, QDQ), its "
            "activation scales calibrated on observations, and run by it",
            2e-2,
            runtime="onnxruntime",
            quantize=STATIC,
        ),
        Variant(
            "openvino-int8",
            "the exported part's weights compressed to int8 by NNCF (compress_weights) and run by OpenVINO",
            2e-2,
            runtime="openvino",
            quantize=WEIGHTS,
        ),
        Variant(
            "openvino-int8-static",
            "the exported part quantized to int8 by NNCF (nncf.quantize: weights and activations), its activation "
            "scales calibrated on observations, and run by OpenVINO",
            2e-2,
            runtime="openvino",
            quantize=STATIC,
        ),
        Variant("tensorrt", "the exported part run by TensorRT (CUDA only)", 1e-4, runtime="tensorrt"),
    )
}
# A failed graph capture can leave CUDA unusable for the rest of the process: the captures run last.
ORDER = [
    "eager",
    "noeval",
    "bf16",
    "bf16-weights",
    "fp16",
    "compile",
    "onnxruntime",
    "openvino",
    "openvino-bf16",
    "onnxruntime-int8",
    "onnxruntime-int8-static",
    "openvino-int8",
    "openvino-int8-static",
    "tensorrt",
    "cudagraph",
    "cudagraph-bf16",
]


AUTO = "auto"  # every variant, and the run ends naming the fastest within the tolerance (report/choice.py)


def parse_variants(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names in (["all"], [AUTO]):
        return list(ORDER)
    if AUTO in names:
        raise UsageError("--variant auto measures every variant that applies here: give it alone")
    for n in names:
        if n not in VARIANTS:
            raise UsageError(f"unknown variant '{n}'; known variants: {', '.join(VARIANTS)}, all or auto")
    if not names:
        raise UsageError("--variant is empty")
    names = ["eager"] + [n for n in ORDER if n in names and n != "eager"]  # eager is the reference
    return names
