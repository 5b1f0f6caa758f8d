"""--export: the model a runtime variant ran, saved with a manifest so that a user deploys exactly
what was measured."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import torch


def file_stem(policy: str) -> str:
    """A file name for a result's policy ("act+onnxruntime"; a checkpoint path made flat)."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", policy).strip("._") or "policy"


def save_export(model_path: str, folder: str, result, record: dict[str, object]) -> list[str]:
    """Copy the exported model into ``folder`` and write its manifest beside it: the policy and
    its config, the exported part, inputs and outputs, runtime and version, equivalence."""
    from policybench.environment import cpu_model, cpu_vector_flags
    from policybench.lerobot_adapter.version import lerobot_version

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(result.name)
    source = Path(model_path)
    model = out / f"{stem}{source.suffix}"  # .onnx, or .xml for OpenVINO IR (an int8 model from NNCF)
    written = [str(model)]
    if source.suffix == ".xml":  # its weights in the .bin of the same name, where OpenVINO looks for them
        shutil.copyfile(source, model)
        shutil.copyfile(source.with_suffix(".bin"), out / f"{stem}.bin")
        record = {**record, "weights_file": f"{stem}.bin", "weights_sha256": _sha256(out / f"{stem}.bin")}
        written.append(str(out / f"{stem}.bin"))
    elif not any(f.name.startswith(source.name + ".") for f in source.parent.iterdir()):
        shutil.copyfile(source, model)
    else:  # weights in an external data file, which the model names: saved again under the model's own name
        import onnx

        data = f"{stem}.onnx.data"
        (out / data).unlink(missing_ok=True)  # onnx appends to an existing data file
        onnx.save_model(onnx.load(model_path), str(model), save_as_external_data=True, location=data)
        if (out / data).exists():  # onnx keeps tensors under 1 KB inline
            record = {**record, "external_data": data, "external_data_sha256": _sha256(out / data)}
            written.append(str(out / data))
    digest = _sha256(model)
    manifest = {
        "policy": result.name,
        "variant": result.variant,
        "source": result.source,
        "config": result.config,
        "model": model.name,
        "sha256": digest,
        **record,
        "io": "inputs as the policy's select_action receives them (after LeRobot's preprocessor: normalized, "
        "batch of 1); outputs before its postprocessor (not unnormalized)",
        "equivalence": result.equivalence,
        "versions": {"torch": torch.__version__, "lerobot": lerobot_version()},
        "cpu": {"model": cpu_model(), "flags": cpu_vector_flags()},
    }
    manifest.pop("saved", None)
    path = out / f"{stem}.json"
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return [*written, str(path)]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
