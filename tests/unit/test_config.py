import pytest

from policybench.cli import FLAGS
from policybench.errors import SettingsError, UsageError
from policybench.settings import Override, RealtimeSettings, RunSettings, SweepSettings, parse_override
from policybench.profiles import PROFILES, Camera, customize_profile, get_profile, parse_image_size

SO100 = PROFILES["so100"]


@pytest.mark.parametrize(
    "text, expected", [("480x640", (480, 640)), ("96X128", (96, 128)), (" 224 x 224 ", (224, 224))]
)
def test_parse_image_size(text, expected):
    assert parse_image_size(text) == expected


@pytest.mark.parametrize("text", ["480", "0x640", "480x0", "axb", "480x640x3", "-480x640", ""])
def test_parse_image_size_rejects(text):
    with pytest.raises(UsageError, match="HEIGHTxWIDTH"):
        parse_image_size(text)


@pytest.mark.parametrize(
    "text, policy, field, value",
    [
        ("diffusion.num_inference_steps=10", "diffusion", "num_inference_steps", 10),
        ("x.y=true", "x", "y", True),
        ("x.y=False", "x", "y", False),
        ("x.y=none", "x", "y", None),
        ("x.y=1.5", "x", "y", 1.5),
        ("x.y=[84,84]", "x", "y", [84, 84]),
        ("x.y=abc", "x", "y", "abc"),
        ("pi05.vlm_model_name=a/b=c", "pi05", "vlm_model_name", "a/b=c"),
    ],
)
def test_parse_override(text, policy, field, value):
    o = parse_override(text)
    assert o == Override(policy, field, value)
    assert type(o.value) is type(value)  # 10 stays an int, true is a bool, not 1


@pytest.mark.parametrize("text", ["bad", "x=1", "x.y", ".y=1", "x.1y=2", "x.y.z=1"])
def test_parse_override_rejects(text):
    with pytest.raises(UsageError, match="POLICY.FIELD=VALUE"):
        parse_override(text)


def test_fewer_cameras_keeps_the_first():
    p = customize_profile(SO100, cameras=1)
    assert p.cameras == (Camera("observation.images.front", 480, 640),)


def test_more_cameras_adds_cameras_of_the_same_size():
    p = customize_profile(SO100, cameras=3)
    assert [c.key for c in p.cameras] == [
        "observation.images.front",
        "observation.images.wrist",
        "observation.images.camera2",
    ]
    assert {(c.height, c.width) for c in p.cameras} == {(480, 640)}


def test_image_size_applies_to_every_camera_including_added_ones():
    p = customize_profile(SO100, cameras=3, image_size=(96, 128))
    assert len(p.cameras) == 3
    assert {(c.height, c.width) for c in p.cameras} == {(96, 128)}


def test_state_and_action_dims():
    p = customize_profile(SO100, state_dim=9, action_dim=7)
    assert (p.state_dim, p.action_dim) == (9, 7)
    assert p.cameras == SO100.cameras and p.name == "so100"
    assert customize_profile(SO100) == SO100


@pytest.mark.parametrize(
    "kw, flag",
    [({"cameras": -1}, "--cameras"), ({"state_dim": 0}, "--state-dim"), ({"action_dim": -3}, "--action-dim")],
)
def test_customize_profile_rejects_naming_the_keyword_and_the_flag(kw, flag):
    (keyword,) = kw
    with pytest.raises(SettingsError, match=f"^{keyword} must ") as caught:
        customize_profile(SO100, **kw)
    assert caught.value.said_with(FLAGS).startswith(f"{flag} must ")


@pytest.mark.parametrize("text", ["480", "0x640", "axb"])
def test_a_bad_image_size_names_the_keyword(text):
    with pytest.raises(SettingsError, match="^image_size must be HEIGHTxWIDTH") as caught:
        parse_image_size(text)
    assert caught.value.said_with(FLAGS).startswith("--image-size must be HEIGHTxWIDTH")


def test_image_sides_and_sequence_sizes_name_the_keyword():
    from policybench.sizes import check_image_side, check_override_sizes

    with pytest.raises(SettingsError, match="^image_size sides must be from 1 to 8192") as caught:
        check_image_side(9000, 640)
    assert caught.value.said_with(FLAGS).startswith("--image-size sides")
    with pytest.raises(SettingsError, match=r"^overrides act\.chunk_size=100000: at most 10,000") as caught:
        check_override_sizes("act", {"chunk_size": 100_000})
    assert caught.value.said_with(FLAGS).startswith("--set act.chunk_size=100000: at most")


def test_a_bad_set_value_names_the_keyword():
    with pytest.raises(SettingsError, match="^overrides must look like POLICY.FIELD=VALUE") as caught:
        parse_override("act-chunk_size=10")
    assert caught.value.said_with(FLAGS) == (
        "--set must look like POLICY.FIELD=VALUE (e.g. diffusion.num_inference_steps=10), got 'act-chunk_size=10'"
    )


def test_get_profile():
    assert get_profile("aloha") is PROFILES["aloha"]
    with pytest.raises(UsageError, match="known profiles: seed, so100, aloha, pusht"):
        get_profile("nope")


def test_default_config_is_valid():
    RunSettings()


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"refills": 0}, "^refills must be positive, got 0$"),
        ({"refills": -2}, "^refills must be positive"),
        ({"max_seconds": 0.0}, "^max_seconds must be positive"),
        ({"max_seconds": -1.0}, "^max_seconds must be positive"),
        ({"warmup": -1}, "^warmup must be 0 or more"),
        ({"threads": 0}, "^threads must be positive"),
        ({"policies": []}, "^policies is empty"),
        ({"policies": ["act", "noop", "act"]}, "names a policy twice"),
        ({"policies": ["act"], "baseline": "smolvla"}, "^baseline 'smolvla' is not among policies"),
        ({"policies": ["act"], "overrides": [Override("diffusion", "horizon", 8)]}, "'diffusion' is not among"),
    ],
)
def test_settings_are_checked_when_made_and_the_error_names_the_field(kw, message):
    with pytest.raises(SettingsError, match=message):
        RunSettings(**kw)


def test_a_settings_error_is_said_with_the_flags_of_the_command_line():
    from policybench.cli import FLAGS

    with pytest.raises(SettingsError) as caught:
        RunSettings(policies=["act"], overrides=[Override("diffusion", "horizon", 8)])
    assert caught.value.said_with(FLAGS) == (
        "--set diffusion.horizon: 'diffusion' is not among --policies (act) nor the type of a --policy-path checkpoint"
    )
    assert isinstance(caught.value, UsageError) and isinstance(caught.value, ValueError)


def test_a_value_with_braces_is_quoted_as_it_is():
    with pytest.raises(SettingsError, match=r"^baseline '\{x\}' is not among policies \(act\)$"):
        RunSettings(policies=["act"], baseline="{x}")


def test_settings_are_frozen_and_a_replacement_is_checked_again():
    import dataclasses

    cfg = RunSettings(policies=["act"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.refills = 3  # type: ignore[misc]
    with pytest.raises(SettingsError, match="^refills"):
        dataclasses.replace(cfg, refills=0)


def test_validate_accepts_warmup_zero():
    RunSettings(warmup=0)


def test_validate_rejects_nan_max_seconds():
    with pytest.raises(SettingsError, match="^max_seconds"):
        RunSettings(max_seconds=float("nan"))


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"hz": (0,)}, "^hz must be positive, got 0$"),
        ({"hz": (20_000,)}, "^hz must be at most 10000"),
        ({"thresholds": (1.5,)}, "^thresholds must be between 0 and 1, got 1.5$"),
        ({"seconds": 0.0}, "^seconds must be positive, got 0$"),
        ({"ticks": 1}, "^ticks must be 2 or more"),
        ({"mode": "fast"}, "^mode must be one of sync, async, both"),
        ({"aggregate": "sum"}, "^aggregate must be one of"),
        ({"remote_calls": 0}, "^remote_calls must be positive"),
        ({"port": 70000}, "^port must be between 1 and 65535"),
        ({"hz": (10, 30), "run": RunSettings(policies=["act"])}, "^a live run takes one hz and one thresholds"),
    ],
)
def test_realtime_settings_are_checked_when_made(kw, message):
    with pytest.raises(SettingsError, match=message):
        RealtimeSettings(**kw)


def test_realtime_settings_give_the_modes_and_the_length_in_ticks():
    assert RealtimeSettings(mode="both").modes == ("sync", "async")
    assert RealtimeSettings(hz=(30,)).ticks_at(30) == 300  # 10 s by default
    assert RealtimeSettings(ticks=7).ticks_at(30) == 7
    assert RealtimeSettings(seconds=0.01).ticks_at(30) == 2


def test_sweep_settings_check_the_rate():
    with pytest.raises(SettingsError, match="^hz must be a positive rate, got -1"):
        SweepSettings(RunSettings(policies=["act"]), (), hz=-1)


def test_resolved_baseline():
    assert RunSettings(policies=["act", "smolvla"]).resolved_baseline() == "smolvla"
    assert RunSettings(policies=["act", "diffusion"]).resolved_baseline() is None
    assert RunSettings(policies=["act", "smolvla"], baseline="act").resolved_baseline() == "act"


def test_overrides_for():
    cfg = RunSettings(
        overrides=[
            Override("act", "chunk_size", 10),
            Override("diffusion", "horizon", 8),
            Override("act", "n_action_steps", 5),
        ]
    )
    assert cfg.overrides_for("act") == {"chunk_size": 10, "n_action_steps": 5}
    assert cfg.overrides_for("smolvla") == {}
