"""Small LeRobot configs that the integration tests share."""

# --set overrides of a small ACT and a small Diffusion (3 denoising steps), where size is not the point.
TINY_ACT = [
    "act.chunk_size=4",
    "act.n_action_steps=4",
    "act.dim_model=32",
    "act.dim_feedforward=64",
    "act.n_encoder_layers=1",
    "act.n_decoder_layers=1",
    "act.n_heads=2",
]
TINY_DIFFUSION = [
    "diffusion.num_inference_steps=3",
    "diffusion.down_dims=[32,64]",
    "diffusion.n_groups=4",
    "diffusion.diffusion_step_embed_dim=32",
    "diffusion.horizon=8",
    "diffusion.n_action_steps=4",
]


def small_pi_family(name: str, monkeypatch) -> bool:
    """pi0/pi05/pi0_fast buildable here with LeRobot's Gemma sizes replaced by one-layer ones (the width of
    2048 is what its vision projection fixes): about 1 B parameters instead of 4 B. False (after
    checking the line that says what to do) where this LeRobot refuses to build them."""
    import importlib

    from policybench.policies import availability

    problem = availability(name)
    if problem:  # LeRobot 0.4.4: refused without its patched transformers, and says what to do
        assert "Python >= 3.12" in problem
        return False
    modeling = importlib.import_module(f"lerobot.policies.{name}.modeling_{name}")
    sizes = {
        "gemma_2b": dict(width=2048, depth=1, mlp_dim=256, num_heads=8, num_kv_heads=1, head_dim=256),
        "gemma_300m": dict(width=64, depth=1, mlp_dim=128, num_heads=8, num_kv_heads=1, head_dim=256),
    }
    monkeypatch.setattr(modeling, "get_gemma_config", lambda variant: modeling.GemmaConfig(**sizes[variant]))
    return True


# X-VLA's Florence-2 at toy size, in the original (remote-code) format LeRobot translates; the text
# vocabulary keeps Florence-2's 51289 entries, which the local BART-sized tokenizer's ids need.
TINY_FLORENCE = {
    "vision_config": {
        "model_type": "davit",
        "dim_embed": [16, 16, 16, 16],
        "num_heads": [2, 2, 2, 2],
        "num_groups": [2, 2, 2, 2],
        "depths": [1, 1, 1, 1],
        "patch_size": [7, 3, 3, 3],
        "patch_stride": [4, 2, 2, 2],
        "patch_padding": [3, 1, 1, 1],
        "patch_prenorm": [False, True, True, True],
        "window_size": 4,
        "projection_dim": 16,
        "image_pos_embed": {"type": "learned_abs_2d", "max_pos_embeddings": 50},
        "visual_temporal_embedding": {"type": "COSINE", "max_temporal_embeddings": 100},
    },
    "text_config": {
        "vocab_size": 51289,
        "d_model": 16,
        "encoder_layers": 1,
        "encoder_ffn_dim": 32,
        "encoder_attention_heads": 2,
        "decoder_layers": 1,
        "decoder_ffn_dim": 32,
        "decoder_attention_heads": 2,
        "max_position_embeddings": 256,
    },
    "pad_token_id": 1,
    "bos_token_id": 0,
    "eos_token_id": 2,
}


def tiny_groot(folder) -> str:
    """A GR00T N1.7 base model at toy size, written as policybench writes its stand-ins (config.json and a
    weights file without tensors, in its cache, so no remote-code refusal): a two-layer Qwen3-VL backbone
    with the real vocabulary (the local Qwen tokenizer's ids need it) and a two-layer action head."""
    import json

    from transformers import Qwen3VLConfig

    from policybench.policies.offline_backbones import write_no_weights
    from policybench.policies.published import GR00T_N1_7

    qwen = folder / "tiny-qwen3-vl"
    qwen.mkdir(parents=True, exist_ok=True)
    Qwen3VLConfig(
        image_token_id=151655,
        video_token_id=151656,
        vision_start_token_id=151652,
        vision_end_token_id=151653,
        tie_word_embeddings=True,
        text_config={
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "head_dim": 32,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "rope_scaling": {"mrope_interleaved": True, "mrope_section": [8, 4, 4], "rope_type": "default"},
        },
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "deepstack_visual_indexes": [0],
            "num_position_embeddings": 2304,
        },
    ).save_pretrained(qwen)
    base = folder / "tiny-gr00t"
    base.mkdir(exist_ok=True)
    values = GR00T_N1_7.values
    config = {
        **values,
        "model_name": str(qwen),
        "backbone_embedding_dim": 64,
        "select_layer": 1,
        "hidden_size": 32,
        "input_embedding_dim": 32,
        "diffusion_model_cfg": {
            **values["diffusion_model_cfg"],
            "num_layers": 2,
            "num_attention_heads": 2,
            "attention_head_dim": 16,
            "output_dim": 32,
        },
        "vl_self_attention_cfg": {
            **values["vl_self_attention_cfg"],
            "num_layers": 1,
            "num_attention_heads": 2,
            "attention_head_dim": 32,
        },
    }
    (base / "config.json").write_text(json.dumps(config))
    write_no_weights(base)
    (base / "complete.json").write_text("{}")
    return str(base)


def tiny_qwen2_5_vl(folder) -> str:
    """EO-1's VLM at toy size with the real vocabulary, beside the local Qwen2.5-VL processor files (EO-1
    reads its processor from the same folder), written as policybench writes its stand-ins."""
    import shutil

    from transformers import Qwen2_5_VLConfig

    from policybench.policies.offline_backbones import qwen2_5_vl_3b_dir, write_no_weights
    from policybench.policies.published import QWEN2_5_VL_3B

    source = qwen2_5_vl_3b_dir()
    target = folder / "tiny-qwen2.5-vl"
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name not in ("config.json", "model.safetensors"):
            shutil.copy(path, target / path.name)
    values = QWEN2_5_VL_3B.values
    Qwen2_5_VLConfig(
        **{
            **values,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "rope_scaling": {"type": "mrope", "mrope_section": [4, 6, 6]},
            "vision_config": {
                **values["vision_config"],
                "depth": 2,
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_heads": 2,
                "out_hidden_size": 64,
                "fullatt_block_indexes": [1],
            },
        }
    ).save_pretrained(target)
    write_no_weights(target)
    return str(target)


def tiny_wall_oss(folder) -> str:
    """WALL-OSS at toy size with the real vocabulary and action head: the local stand-in's processor files and
    its config with a small language model, experts and vision encoder."""
    import json
    import shutil

    from policybench.policies.offline_backbones import wall_oss_flow_dir

    source = wall_oss_flow_dir()
    target = folder / "tiny-wall-oss"
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name != "config.json":
            shutil.copy(path, target / path.name)
    config = json.loads((source / "config.json").read_text())
    expert = {"hidden_size": 64, "hidden_act": "silu"}
    config.update(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        rope_scaling={"type": "mrope", "mrope_section": [4, 6, 6]},
        experts=[{**expert, "intermediate_size": 128}, {**expert, "intermediate_size": 64}],
        dim_inputs=[64, 64],
        vision_config={
            **config["vision_config"],
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
            "fullatt_block_indexes": [1],
        },
    )
    (target / "config.json").write_text(json.dumps(config))
    return str(target)


def _tiny_copy(source, target, config) -> str:
    """``source``'s stand-in files (tokenizer, processors) beside a toy ``config``, without weights."""
    import shutil

    from policybench.policies.offline_backbones import write_no_weights

    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name not in ("config.json", "model.safetensors", "complete.json"):
            shutil.copy(path, target / path.name)
    config.save_pretrained(target)
    write_no_weights(target)
    return str(target)


# Evo-1's InternVL3 at toy size: 56x56 images (4x4 patches of 14, pixel-shuffled to 4 tokens), the real
# vocabulary (the local InternVL3 tokenizer's <IMG_CONTEXT> is 151667).
TINY_EVO1 = {
    "image_resolution": (56, 56),
    "vlm_num_layers": 1,
    "embed_dim": 64,
    "hidden_dim": 32,
    "state_hidden_dim": 32,
    "num_heads": 2,
    "num_layers": 1,
    "num_inference_timesteps": 2,
    "chunk_size": 4,
    "n_action_steps": 4,
}


def tiny_internvl3(folder) -> str:
    from transformers import InternVLConfig

    from policybench.policies.offline_backbones import internvl3_1b_dir
    from policybench.policies.published import INTERNVL3_1B

    values = INTERNVL3_1B.values
    config = InternVLConfig(
        **{
            **values,
            "image_seq_length": 4,
            "vision_config": {
                **values["vision_config"],
                "hidden_size": 32,
                "num_hidden_layers": 1,
                "num_attention_heads": 2,
                "intermediate_size": 64,
                "image_size": [56, 56],
            },
            "text_config": {
                **values["text_config"],
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "num_key_value_heads": 1,
            },
        }
    )
    return _tiny_copy(internvl3_1b_dir(), folder / "tiny-internvl3", config)


def tiny_vla_jepa(folder) -> dict[str, object]:
    """VLA-JEPA's overrides at toy size: a two-layer Qwen3-VL with the real vocabulary beside the local
    Qwen3-VL processor, a one-layer V-JEPA 2 and a one-layer action DiT and world-model predictor."""
    from transformers import Qwen3VLConfig, VJEPA2Config

    from policybench.policies.offline_backbones import qwen3_vl_2b_dir, vjepa2_vitl_dir
    from policybench.policies.published import QWEN3_VL_2B, VJEPA2_VITL

    values = QWEN3_VL_2B.values
    qwen = Qwen3VLConfig(
        **{
            **values,
            "text_config": {
                **values["text_config"],
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "num_key_value_heads": 1,
                "head_dim": 32,
                "rope_scaling": {"mrope_interleaved": True, "mrope_section": [8, 4, 4], "rope_type": "default"},
            },
            "vision_config": {
                **values["vision_config"],
                "depth": 2,
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_heads": 2,
                "out_hidden_size": 64,
                "deepstack_visual_indexes": [0],
            },
        }
    )
    jepa = VJEPA2Config(
        **{
            **VJEPA2_VITL.values,
            "hidden_size": 32,
            "num_attention_heads": 2,
            "num_hidden_layers": 1,
            "pred_hidden_size": 32,
            "pred_num_attention_heads": 2,
            "pred_num_hidden_layers": 1,
        }
    )
    return {
        "qwen_model_name": _tiny_copy(qwen3_vl_2b_dir(), folder / "tiny-qwen3-vl-2b", qwen),
        "jepa_encoder_name": _tiny_copy(vjepa2_vitl_dir(), folder / "tiny-vjepa2", jepa),
        "action_model_type": "DiT-B",
        "action_num_layers": 2,
        "action_hidden_size": 32,
        "predictor_depth": 1,
        "predictor_num_heads": 2,
        "num_inference_timesteps": 2,
        "chunk_size": 4,
        "n_action_steps": 4,
        "torch_dtype": "float32",
    }
