"""The published architectures that policybench writes locally in place of a hub download, as data.

Each ``Architecture`` holds the config values of one model on the hub (what its config.json
says), and where each value was read: this machine cannot reach the hub, so a value comes from
what transformers or LeRobot ship in their source (a config class whose defaults are documented
as that checkpoint's, a hard-coded copy of a config.json), or from public code that quotes the
checkpoint's config.json; ``source`` names which, per group of values. A value that nothing
offline confirms is named in ``unverified``.

``PUBLISHED_PARAMETERS`` are the parameter counts the policies' authors publish, with where each
figure comes from and whether it could be read offline; policybench's own count at the default
size is held against them (tests/integration/test_offline_backbones.py, docs).

Torch-free and import-free: written into the local cache by offline_backbones.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Architecture:
    """The config values of one published model, and where they come from."""

    hub_id: str
    values: dict[str, object]
    source: str
    unverified: tuple[str, ...] = ()  # values nothing offline confirms (said so, not invented silently)
    notes: tuple[str, ...] = field(default=())


# openai/clip-vit-base-patch16 (multi_task_dit's vision and text encoder).
CLIP_VIT_B16_PARAMETERS = 149_620_737  # CLIPModel as a whole (see PUBLISHED_PARAMETERS["multi_task_dit"])
CLIP_VIT_B32_PARAMETERS = 151_277_313  # OpenAI's clip package, ViT-B/32

CLIP_VIT_B16 = Architecture(
    hub_id="openai/clip-vit-base-patch16",
    values={
        "text_config": {
            "vocab_size": 49408, "hidden_size": 512, "intermediate_size": 2048, "num_hidden_layers": 12,
            "num_attention_heads": 8, "max_position_embeddings": 77, "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5, "projection_dim": 512, "bos_token_id": 49406, "eos_token_id": 49407,
            "pad_token_id": 1,
        },
        "vision_config": {
            "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
            "image_size": 224, "patch_size": 16, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
            "projection_dim": 512,
        },
        "projection_dim": 512,
    },
    source=(
        "transformers 5.5 CLIPTextConfig/CLIPVisionConfig defaults, documented there as "
        "openai/clip-vit-base-patch32's; the B/16 model differs from B/32 only in patch_size (16), as the "
        "CLIP paper's Table 20 (arXiv 2103.00020: ViT-B/16, width 768, 12 layers, 12 heads; text width 512, "
        "12 layers, 8 heads; embedding 512) and the model's name say"),
    unverified=("text_config.bos_token_id/eos_token_id: the hub's config.json may hold the legacy 0/2; "
                "the pooling cost is the same",),
)

# facebook/bart-large: the tokenizer X-VLA's processor uses (tokenizer_name).
BART_LARGE_TOKENIZER = Architecture(
    hub_id="facebook/bart-large",
    values={"vocab_size": 50265, "bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>",
            "unk_token": "<unk>", "mask_token": "<mask>", "model_max_length": 1024},
    source=("transformers 5.5 BartConfig defaults (documented as facebook/bart-large's: vocab_size 50265, "
            "pad 1, bos 0, eos 2) and BartTokenizer's special tokens (<s> <pad> </s> <unk> first, <mask> last)"),
)

# X-VLA's Florence-2 (microsoft/Florence-2-large's architecture, X-VLA-0.9B's VLM), in the original
# remote-code format that LeRobot's XVLAConfig.get_florence_config translates (dim_embed, image_pos_embed).
FLORENCE2_LARGE = Architecture(
    hub_id="microsoft/Florence-2-large (as in lerobot/xvla-base's florence_config)",
    values={
        "vision_config": {
            "model_type": "davit",
            "drop_path_rate": 0.1,
            "patch_size": [7, 3, 3, 3],
            "patch_stride": [4, 2, 2, 2],
            "patch_padding": [3, 1, 1, 1],
            "patch_prenorm": [False, True, True, True],
            "dim_embed": [256, 512, 1024, 2048],
            "num_heads": [8, 16, 32, 64],
            "num_groups": [8, 16, 32, 64],
            "depths": [1, 1, 9, 1],
            "window_size": 12,
            "projection_dim": 1024,
            "visual_temporal_embedding": {"type": "COSINE", "max_temporal_embeddings": 100},
            "image_pos_embed": {"type": "learned_abs_2d", "max_pos_embeddings": 50},
            "image_feature_source": ["spatial_avg_pool", "temporal_avg_pool"],
        },
        "text_config": {
            "model_type": "florence2_language",
            "vocab_size": 51289,
            "d_model": 1024,
            "max_position_embeddings": 4096,
            "encoder_layers": 12,
            "encoder_ffn_dim": 4096,
            "encoder_attention_heads": 16,
            "decoder_layers": 12,
            "decoder_ffn_dim": 4096,
            "decoder_attention_heads": 16,
            "activation_function": "gelu",
            "scale_embedding": False,
            "pad_token_id": 1,
            "bos_token_id": 0,
            "eos_token_id": 2,
        },
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "is_encoder_decoder": True,
    },
    source=(
        "the X-VLA authors' config.json (huggingface.co/2toINF/X-VLA-WidowX, seen offline as a page excerpt "
        "in the search index): florence_config with BART text vocab 51289, d_model 1024, 12+12 layers, 16 heads, "
        "max_position_embeddings 4096; DaViT patch_size 7,3,3,3, stride 4,2,2,2, padding 3,1,1,1, prenorm "
        "F,T,T,T, dim_embed 256-2048; the rest of the DaViT (heads 8-64, groups 8-64, depths 1,1,9,1, window "
        "12, projection 1024, temporal embeddings 100, position embeddings 50) is microsoft/Florence-2-large's "
        "as LeRobot's first XVLA port and RLinf's XVLA config quote it; FFN 4096 is BART-large's "
        "(transformers' BartConfig defaults)"),
    unverified=(
        "vision_config.image_pos_embed.max_pos_embeddings: 50 in Florence-2-large; one X-VLA port has 1000 "
        "(2.0 M parameters more, 0.2 % of the total); the excerpt of X-VLA's config.json ends before it",
        "the text decoder (12 layers) is built by transformers and deleted by LeRobot: not counted",
    ),
)

# lerobot/fast-action-tokenizer (physical-intelligence/fast): pi0_fast's action tokenizer.
FAST_ACTION_TOKENIZER = Architecture(
    hub_id="lerobot/fast-action-tokenizer",
    values={"vocab_size": 1024, "scale": 10, "dct_norm": "ortho", "dct_axis": "time"},
    source=(
        "the FAST paper (Pertsch et al. 2025, arXiv 2501.09747): a DCT along time of each action "
        "dimension, coefficients scaled by 10 and rounded, flattened and compressed by a byte-pair encoding "
        "of 1024 tokens; LeRobot 0.6.1 reads bpe_tokenizer, min_token and scale of the loaded processor "
        "(PI0FastPolicy.decode_actions_with_fast)"),
    unverified=(
        "min_token: the published tokenizer's value is in its processor config on the hub; ours is the "
        "minimum over the synthetic trajectories it is fitted on",
        "the merges: fitted here on synthetic smooth trajectories, not the published ones (the vocabulary "
        "size is the same; decoding cost is a few milliseconds either way)",
    ),
)

ARCHITECTURES = {a.hub_id: a for a in (CLIP_VIT_B16, BART_LARGE_TOKENIZER, FLORENCE2_LARGE, FAST_ACTION_TOKENIZER)}


@dataclass(frozen=True)
class PublishedCount:
    """A parameter count the authors publish for a policy at its default size."""

    parameters: int | None  # None: no count is published (or none found offline)
    source: str
    verified_offline: bool  # whether the figure could be read on this machine


PUBLISHED_PARAMETERS: dict[str, PublishedCount] = {
    "multi_task_dit": PublishedCount(
        None, "none published for the policy. Its CLIP ViT-B/16 is 149,620,737 parameters as a whole: OpenAI's clip "
        "package counts ViT-B/32 at 151,277,313 (printed in public code found offline), and B/16 differs only by "
        "its patch embedding (-1,769,472) and position embeddings (+112,896); policybench's CLIP config gives "
        "both counts exactly (tests/integration/test_offline_backbones.py). LeRobot keeps CLIPVisionModel and "
        "CLIPTextModel of it, without CLIP's two projections and logit scale (655,361)", True),
    "xvla": PublishedCount(
        900_000_000, "X-VLA-0.9B: the name the authors give the model (arXiv 2510.10274, 2toINF/X-VLA README); "
        "a rounded figure, not an exact count", True),
    "pi0_fast": PublishedCount(
        None, "pi0-FAST is PaliGemma 3B decoding FAST tokens (arXiv 2501.09747): no exact count is published "
        "for it; LeRobot builds PaliGemma alone (SigLIP So400m + Gemma 2B, no action expert)", False),
}
