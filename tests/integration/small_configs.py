"""Small LeRobot configs that the integration tests share."""


def small_pi_family(name: str, monkeypatch) -> bool:
    """pi0/pi05 buildable here with LeRobot's Gemma sizes replaced by one-layer ones (the width of
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
