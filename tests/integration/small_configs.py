"""Small LeRobot configs that the integration tests share."""


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
    sizes = {"gemma_2b": dict(width=2048, depth=1, mlp_dim=256, num_heads=8, num_kv_heads=1, head_dim=256),
             "gemma_300m": dict(width=64, depth=1, mlp_dim=128, num_heads=8, num_kv_heads=1, head_dim=256)}
    monkeypatch.setattr(modeling, "get_gemma_config", lambda variant: modeling.GemmaConfig(**sizes[variant]))
    return True


# X-VLA's Florence-2 at toy size, in the original (remote-code) format LeRobot translates; the text
# vocabulary keeps Florence-2's 51289 entries, which the local BART-sized tokenizer's ids need.
TINY_FLORENCE = {
    "vision_config": {
        "model_type": "davit", "dim_embed": [16, 16, 16, 16], "num_heads": [2, 2, 2, 2], "num_groups": [2, 2, 2, 2],
        "depths": [1, 1, 1, 1], "patch_size": [7, 3, 3, 3], "patch_stride": [4, 2, 2, 2],
        "patch_padding": [3, 1, 1, 1], "patch_prenorm": [False, True, True, True], "window_size": 4,
        "projection_dim": 16,
        "image_pos_embed": {"type": "learned_abs_2d", "max_pos_embeddings": 50},
        "visual_temporal_embedding": {"type": "COSINE", "max_temporal_embeddings": 100},
    },
    "text_config": {
        "vocab_size": 51289, "d_model": 16, "encoder_layers": 1, "encoder_ffn_dim": 32, "encoder_attention_heads": 2,
        "decoder_layers": 1, "decoder_ffn_dim": 32, "decoder_attention_heads": 2, "max_position_embeddings": 256,
    },
    "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
}
