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
            "vocab_size": 49408,
            "hidden_size": 512,
            "intermediate_size": 2048,
            "num_hidden_layers": 12,
            "num_attention_heads": 8,
            "max_position_embeddings": 77,
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5,
            "projection_dim": 512,
            "bos_token_id": 49406,
            "eos_token_id": 49407,
            "pad_token_id": 1,
        },
        "vision_config": {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "image_size": 224,
            "patch_size": 16,
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5,
            "projection_dim": 512,
        },
        "projection_dim": 512,
    },
    source=(
        "transformers 5.5 CLIPTextConfig/CLIPVisionConfig defaults, documented there as "
        "openai/clip-vit-base-patch32's; the B/16 model differs from B/32 only in patch_size (16), as the "
        "CLIP paper's Table 20 (arXiv 2103.00020: ViT-B/16, width 768, 12 layers, 12 heads; text width 512, "
        "12 layers, 8 heads; embedding 512) and the model's name say"
    ),
    unverified=(
        "text_config.bos_token_id/eos_token_id: the hub's config.json may hold the legacy 0/2; "
        "the pooling cost is the same",
    ),
)

# facebook/bart-large: the tokenizer X-VLA's processor uses (tokenizer_name).
BART_LARGE_TOKENIZER = Architecture(
    hub_id="facebook/bart-large",
    values={
        "vocab_size": 50265,
        "bos_token": "<s>",
        "pad_token": "<pad>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "mask_token": "<mask>",
        "model_max_length": 1024,
    },
    source=(
        "transformers 5.5 BartConfig defaults (documented as facebook/bart-large's: vocab_size 50265, "
        "pad 1, bos 0, eos 2) and BartTokenizer's special tokens (<s> <pad> </s> <unk> first, <mask> last)"
    ),
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
        "(transformers' BartConfig defaults)"
    ),
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
        "(PI0FastPolicy.decode_actions_with_fast)"
    ),
    unverified=(
        "min_token: the published tokenizer's value is in its processor config on the hub; ours is the "
        "minimum over the synthetic trajectories it is fitted on",
        "the merges: fitted here on synthetic smooth trajectories, not the published ones (the vocabulary "
        "size is the same; decoding cost is a few milliseconds either way)",
    ),
)

# nvidia/GR00T-N1.7-3B: its action head and how it uses its backbone (nvidia/Cosmos-Reason2-2B, a
# Qwen3-VL 2B layout that LeRobot builds from its own hard-coded copy of that config.json).
GR00T_N1_7 = Architecture(
    hub_id="nvidia/GR00T-N1.7-3B",
    values={
        "model_type": "Gr00tN1d7",
        "model_name": "nvidia/Cosmos-Reason2-2B",
        "backbone_model_type": "qwen",
        "backbone_embedding_dim": 2048,
        "select_layer": 16,
        "reproject_vision": False,
        "model_dtype": "bfloat16",
        "max_state_dim": 132,
        "max_action_dim": 132,
        "action_horizon": 40,
        "hidden_size": 1024,
        "input_embedding_dim": 1536,
        "state_history_length": 1,
        "add_pos_embed": True,
        "use_vlln": True,
        "max_seq_len": 1024,
        "use_alternate_vl_dit": True,
        "attend_text_every_n_blocks": 2,
        "diffusion_model_cfg": {
            "positional_embeddings": None,
            "num_layers": 32,
            "num_attention_heads": 32,
            "attention_head_dim": 48,
            "norm_type": "ada_norm",
            "dropout": 0.2,
            "final_dropout": True,
            "output_dim": 1024,
            "interleave_self_attention": True,
        },
        "vl_self_attention_cfg": {
            "positional_embeddings": None,
            "num_layers": 4,
            "num_attention_heads": 32,
            "attention_head_dim": 64,
            "dropout": 0.2,
            "final_dropout": True,
        },
        "num_inference_timesteps": 4,
        "num_timestep_buckets": 1000,
        "max_num_embodiments": 32,
    },
    source=(
        "LeRobot 0.6.1's GR00T_N1_7_DEFAULTS (lerobot/policies/groot/groot_n1_7.py), documented there as mirroring "
        "the public N1.7 checkpoint config; the backbone's own config is LeRobot's _cosmos_reason2_qwen3_vl_config, "
        "'a hard-coded copy of the nvidia/Cosmos-Reason2-2B config.json', which LeRobot builds itself (GR00T "
        "keeps its first select_layer = 16 of the 28 language layers)"
    ),
)

# nvidia/Cosmos-Reason2-2B's processor (Qwen3-VL): what GR00T's preprocessor tokenizes and patchifies with.
QWEN3_VL_PROCESSOR = Architecture(
    hub_id="nvidia/Cosmos-Reason2-2B",
    values={
        "regular_tokens": 151643,  # byte-level BPE entries before the special tokens
        "special_tokens": [
            "<|endoftext|>",
            "<|im_start|>",
            "<|im_end|>",
            "<|object_ref_start|>",
            "<|object_ref_end|>",
            "<|box_start|>",
            "<|box_end|>",
            "<|quad_start|>",
            "<|quad_end|>",
            "<|vision_start|>",
            "<|vision_end|>",
            "<|vision_pad|>",
            "<|image_pad|>",
            "<|video_pad|>",
            "<tool_call>",
            "</tool_call>",
            "<|fim_prefix|>",
            "<|fim_middle|>",
            "<|fim_suffix|>",
            "<|fim_pad|>",
            "<|repo_name|>",
            "<|file_sep|>",
            "<tool_response>",
            "</tool_response>",
            "<think>",
            "</think>",
        ],
        "patch_size": 16,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
    },
    source=(
        "Qwen2/Qwen3 tokenizers' layout: 151643 BPE entries, then the special tokens from <|endoftext|> (151643) on; "
        "LeRobot's hard-coded Cosmos-Reason2-2B config fixes the ids this policy reads (bos <|endoftext|> 151643, "
        "eos <|im_end|> 151645, <|vision_start|> 151652, <|vision_end|> 151653, <|image_pad|> 151655, "
        "<|video_pad|> 151656) and the vision patching (patch_size 16, spatial_merge_size 2, temporal_patch_size 2)"
    ),
    unverified=(
        "the order of the special tokens after <|video_pad|> (151656) and image_mean/std 0.5: Qwen3-VL's "
        "as far as known here; neither changes a refill's cost",
        "the chat template: ChatML as Qwen-VL writes it (<|im_start|>role, each image "
        "<|vision_start|><|image_pad|><|vision_end|>), written here, not copied",
    ),
)

# Qwen/Qwen2.5-VL-3B-Instruct: EO-1's VLM (vlm_base) and its processor.
QWEN2_5_VL_3B = Architecture(
    hub_id="Qwen/Qwen2.5-VL-3B-Instruct",
    values={
        "model_type": "qwen2_5_vl",
        "hidden_size": 2048,
        "intermediate_size": 11008,
        "num_hidden_layers": 36,
        "num_attention_heads": 16,
        "num_key_value_heads": 2,
        "max_position_embeddings": 128000,
        "max_window_layers": 70,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0,
        "sliding_window": 32768,
        "use_sliding_window": False,
        "tie_word_embeddings": True,
        "vocab_size": 151936,
        "hidden_act": "silu",
        "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "vision_start_token_id": 151652,
        "vision_end_token_id": 151653,
        "vision_token_id": 151654,
        "image_token_id": 151655,
        "video_token_id": 151656,
        "vision_config": {
            "depth": 32,
            "hidden_act": "silu",
            "hidden_size": 1280,
            "intermediate_size": 3420,
            "num_heads": 16,
            "in_chans": 3,
            "out_hidden_size": 2048,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "spatial_patch_size": 14,
            "window_size": 112,
            "fullatt_block_indexes": [7, 15, 23, 31],
            "tokens_per_second": 2,
            "temporal_patch_size": 2,
        },
    },
    source=(
        "Qwen2.5-VL-3B-Instruct's config.json as hard-coded in public code found offline (a LeRobot WALL-OSS port's "
        "QwenvlWithExpertConfig default: hidden 2048, FFN 11008, 36 layers, 16 heads, 2 KV heads, vocab 151936, tied "
        "embeddings, mrope 16/24/24; vision depth 32, width 1280, FFN 3420, out 2048, patch 14, window 112, full "
        "attention at 7/15/23/31), the token ids as in every Qwen2.5-VL config; its torch_dtype (bfloat16) is left "
        "out, so LeRobot's dtype 'auto' builds it in fp32 as policybench measures every policy by default"
    ),
)
QWEN2_5_VL_PROCESSOR = Architecture(
    hub_id="Qwen/Qwen2.5-VL-3B-Instruct (processor)",
    values={
        "regular_tokens": 151643,
        "special_tokens": QWEN3_VL_PROCESSOR.values["special_tokens"][:22],  # type: ignore[index]
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "min_pixels": 3136,
        "max_pixels": 12845056,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
    },
    source=(
        "Qwen2.5-VL's tokenizer: 151643 BPE entries and the 22 special tokens <|endoftext|> (151643) to <|file_sep|> "
        "(151664); its preprocessor_config.json as quoted in public code found offline (patch 14, merge 2, "
        "temporal 2, min/max pixels 3136/12845056, CLIP's mean and std)"
    ),
    unverified=("the chat template: ChatML as Qwen-VL writes it, written here, not copied",),
)

# x-square-robot/wall-oss-flow: WALL-OSS, Qwen2.5-VL-3B with a second (action) expert in each MLP.
WALL_OSS_FLOW = Architecture(
    hub_id="x-square-robot/wall-oss-flow",
    values={
        **{k: v for k, v in QWEN2_5_VL_3B.values.items() if k != "model_type"},
        "model_type": "qwen2_5_vl",
        "architectures": ["Qwen2_5_VLForConditionalGeneration"],
        "num_experts": 2,
        "experts": [
            {"hidden_size": 2048, "intermediate_size": 11008, "hidden_act": "silu"},
            {"hidden_size": 2048, "intermediate_size": 2048, "hidden_act": "silu"},
        ],
        "dim_inputs": [2048, 2048],
        "attention_moe": False,
        "mlp_moe": True,
        "dof_config": {
            "follow_left_ee_cartesian_pos": 3,
            "follow_left_ee_rotation": 3,
            "follow_left_gripper": 1,
            "follow_right_ee_cartesian_pos": 3,
            "follow_right_ee_rotation": 3,
            "follow_right_gripper": 1,
            "head_actions": 2,
            "height": 1,
            "car_pose": 3,
        },
        "agent_pos_config": {
            "follow_left_ee_cartesian_pos": 3,
            "follow_left_ee_rotation": 3,
            "follow_left_gripper": 1,
            "follow_right_ee_cartesian_pos": 3,
            "follow_right_ee_rotation": 3,
            "follow_right_gripper": 1,
            "head_actions": 2,
            "height": 1,
            "car_pose": 3,
        },
        "noise_scheduler": {
            "beta_alpha": 1.5,
            "beta_beta": 1.0,
            "t_eps": 0.001,
            "s": 0.999,
            "num_inference_timesteps": 10,
        },
    },
    source=(
        "the WALL-OSS authors' model config (github.com/X-Square-Robot/wall-x, "
        "workspace/models_config/qwen2_5_moe_flash.json, read offline from the code index): Qwen2.5-VL-3B's values "
        "(as QWEN2_5_VL_3B) with num_experts 2, experts of FFN 11008 (language) and 2048 (action), dim_inputs "
        "2048/2048, mlp_moe, the noise scheduler; dof_config and agent_pos_config (20 each) are the same repository's "
        "LeRobot example (workspace/lerobot_example/config_qact.yml), the 20 that LeRobot 0.6.1's WallXConfig pads "
        "actions and state to (max_action_dim, max_state_dim)"
    ),
    unverified=(
        "the hub checkpoint's own config.json (not readable offline): its dof_config and agent_pos_config must sum "
        "to LeRobot's 20 for its action head to take LeRobot's padded actions; only the action head's two "
        "projections depend on them (a few hundred thousand parameters)",
    ),
)
# The WALL-OSS tokenizer: Qwen2.5-VL's, with <|propri|>, <|action|> and one token per FAST action token added
# (the authors' scripts/merge_tokenizer.py), the model's embeddings resized to it by LeRobot.
WALL_OSS_TOKENIZER = Architecture(
    hub_id="x-square-robot/wall-oss-flow (processor)",
    values={
        "added_tokens": ["<|propri|>", "<|action|>"],
        "action_token_vocab_size": FAST_ACTION_TOKENIZER.values["vocab_size"],
        "padding_side": "left",
    },
    source=(
        "the WALL-OSS authors' scripts/merge_tokenizer.py (github.com/X-Square-Robot/wall-x, read offline): "
        "Qwen2.5-VL-3B-Instruct's processor, padding left, tokens <|propri|> <|action|> then <|action_token_i|> for "
        "each of the FAST tokenizer's tokens (1024: FAST_ACTION_TOKENIZER), action_token_start_index and "
        "action_token_vocab_size written into the tokenizer's init kwargs"
    ),
    unverified=(
        "whether the flow checkpoint's tokenizer holds the 1024 FAST action tokens as the fast one does: "
        "2.1 M embedding parameters (0.05 %) either way",
    ),
)

# OpenGVLab/InternVL3-1B-hf: Evo-1's VLM (vlm_model_name), which LeRobot builds with AutoModel (InternVLModel:
# InternViT-300M, the pixel-shuffle projector and Qwen2.5-0.5B, no language head) and cuts to 14 language layers.
INTERNVL3_1B = Architecture(
    hub_id="OpenGVLab/InternVL3-1B-hf",
    values={
        "model_type": "internvl",
        "architectures": ["InternVLForConditionalGeneration"],
        "image_token_id": 151667,
        "image_seq_length": 256,
        "downsample_ratio": 0.5,
        "projector_hidden_act": "gelu",
        "vision_feature_layer": -1,
        "vision_feature_select_strategy": "default",
        "vision_config": {
            "model_type": "internvl_vision",
            "hidden_size": 1024,
            "num_hidden_layers": 24,
            "num_attention_heads": 16,
            "intermediate_size": 4096,
            "hidden_act": "gelu",
            "attention_bias": True,
            "use_qk_norm": False,
            "norm_type": "layer_norm",
            "layer_norm_eps": 1e-6,
            "image_size": [448, 448],
            "patch_size": [14, 14],
            "num_channels": 3,
            "use_absolute_position_embeddings": True,
            "layer_scale_init_value": 0.1,
            "use_mean_pooling": True,
        },
        "text_config": {
            "model_type": "qwen2",
            "hidden_size": 896,
            "intermediate_size": 4864,
            "num_hidden_layers": 24,
            "num_attention_heads": 14,
            "num_key_value_heads": 2,
            "hidden_act": "silu",
            "max_position_embeddings": 32768,
            "rms_norm_eps": 1e-6,
            "rope_theta": 1000000.0,
            "vocab_size": 151674,
            "bos_token_id": 151643,
            "eos_token_id": 151645,
            "tie_word_embeddings": False,
        },
    },
    source=(
        "transformers 5.5's InternVLConfig and InternVLVisionConfig, whose defaults are documented as "
        "OpenGVLab/InternVL3-1B-hf's (InternViT-300M: width 1024, 24 layers, 16 heads, FFN 4096, 448 px, patch 14, "
        "layer scale 0.1; image token 151667, 256 tokens per image, downsample 0.5, GELU projector); the vision "
        "attention's bias from a public printout of OpenGVLab/InternVL3-1B (qkv Linear(1024, 3072, bias=True)); "
        "the language model is Qwen2.5-0.5B as public copies of InternVL3's config.json give it (hidden 896, FFN "
        "4864, 24 layers, 14 heads, 2 KV heads, rope theta 1e6, 32768 positions, vocab 151674: Qwen's 151665 tokens "
        "and InternVL's nine, <img> to </box>)"
    ),
    unverified=(
        "text_config.tie_word_embeddings: LeRobot builds InternVLModel, which has no language head, so the count "
        "does not depend on it",
    ),
)
INTERNVL3_TOKENIZER = Architecture(
    hub_id="OpenGVLab/InternVL3-1B-hf (tokenizer)",
    values={
        "regular_tokens": 151643,
        "special_tokens": [
            *QWEN3_VL_PROCESSOR.values["special_tokens"][:22],  # type: ignore[index]
            "<img>",
            "</img>",
            "<IMG_CONTEXT>",
            "<quad>",
            "</quad>",
            "<ref>",
            "</ref>",
            "<box>",
            "</box>",
        ],
        "model_max_length": 8192,
    },
    source=(
        "Qwen2.5's tokenizer (151643 BPE entries, 22 special tokens <|endoftext|> 151643 to <|file_sep|> 151664) "
        "and InternVL's nine added tokens from 151665 on, which put <IMG_CONTEXT> at 151667, the image_token_id of "
        "transformers' InternVLConfig (documented as InternVL3-1B-hf's) and what LeRobot's Evo-1 looks up by name"
    ),
    unverified=("model_max_length (8192): truncation only; Evo-1 truncates at its own max_text_length",),
)

# Qwen/Qwen3-VL-2B-Instruct: VLA-JEPA's VLM (qwen_model_name) and its processor.
QWEN3_VL_2B = Architecture(
    hub_id="Qwen/Qwen3-VL-2B-Instruct",
    values={
        "model_type": "qwen3_vl",
        "architectures": ["Qwen3VLForConditionalGeneration"],
        "image_token_id": 151655,
        "video_token_id": 151656,
        "vision_start_token_id": 151652,
        "vision_end_token_id": 151653,
        "tie_word_embeddings": True,
        "text_config": {
            "model_type": "qwen3_vl_text",
            "attention_bias": False,
            "bos_token_id": 151643,
            "eos_token_id": 151645,
            "head_dim": 128,
            "hidden_act": "silu",
            "hidden_size": 2048,
            "intermediate_size": 6144,
            "max_position_embeddings": 262144,
            "num_attention_heads": 16,
            "num_hidden_layers": 28,
            "num_key_value_heads": 8,
            "rms_norm_eps": 1e-6,
            "rope_scaling": {"mrope_interleaved": True, "mrope_section": [24, 20, 20], "rope_type": "default"},
            "rope_theta": 5000000,
            "tie_word_embeddings": True,
            "vocab_size": 151936,
        },
        "vision_config": {
            "model_type": "qwen3_vl",
            "deepstack_visual_indexes": [5, 11, 17],
            "depth": 24,
            "hidden_act": "gelu_pytorch_tanh",
            "hidden_size": 1024,
            "in_channels": 3,
            "intermediate_size": 4096,
            "num_heads": 16,
            "num_position_embeddings": 2304,
            "out_hidden_size": 2048,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
    },
    source=(
        "LeRobot 0.6.1's _cosmos_reason2_qwen3_vl_config (lerobot/policies/groot/groot_n1_7.py), 'a hard-coded copy "
        "of the nvidia/Cosmos-Reason2-2B config.json (a Qwen3-VL-2B-Instruct layout)'; the same values are printed "
        "for a Qwen3-VL 2B config in a public issue found offline (xorbitsai/inference#4592: text hidden 2048, FFN "
        "6144, 28 layers, 16 heads, 8 KV heads, head 128, tied embeddings, vocab 151936, mrope 24/20/20 interleaved, "
        "theta 5e6; vision depth 24, width 1024, FFN 4096, 16 heads, out 2048, patch 16, deepstack 5/11/17). Its "
        "torch_dtype is left out: VLA-JEPA's own torch_dtype decides"
    ),
)

# facebook/vjepa2-vitl-fpc64-256: VLA-JEPA's video encoder (jepa_encoder_name), built with AutoModel (VJEPA2Model:
# the ViT-L encoder and its 12-layer predictor) beside LeRobot's own action-conditioned predictor.
VJEPA2_VITL = Architecture(
    hub_id="facebook/vjepa2-vitl-fpc64-256",
    values={
        "model_type": "vjepa2",
        "architectures": ["VJEPA2Model"],
        "patch_size": 16,
        "crop_size": 256,
        "frames_per_clip": 64,
        "tubelet_size": 2,
        "hidden_size": 1024,
        "in_chans": 3,
        "num_attention_heads": 16,
        "num_hidden_layers": 24,
        "mlp_ratio": 4.0,
        "layer_norm_eps": 1e-6,
        "qkv_bias": True,
        "hidden_act": "gelu",
        "num_pooler_layers": 3,
        "pred_hidden_size": 384,
        "pred_num_attention_heads": 12,
        "pred_num_hidden_layers": 12,
        "pred_num_mask_tokens": 10,
        "pred_zero_init_mask_tokens": True,
        "pred_mlp_ratio": 4.0,
    },
    source=(
        "transformers 5.5's VJEPA2Config, whose defaults are documented as facebook/vjepa2-vitl-fpc64-256's (ViT-L: "
        "width 1024, 24 layers, 16 heads, patch 16, tubelet 2, 256 px crops, 64 frames per clip; predictor width "
        "384, 12 layers, 12 heads, 10 mask tokens), as the V-JEPA 2 paper (arXiv 2506.09985) describes ViT-L; the "
        "video processor is VJEPA2VideoProcessor's defaults (crop 256, resize 292, ImageNet mean and std)"
    ),
)

ARCHITECTURES = {
    a.hub_id: a
    for a in (
        CLIP_VIT_B16,
        BART_LARGE_TOKENIZER,
        FLORENCE2_LARGE,
        FAST_ACTION_TOKENIZER,
        GR00T_N1_7,
        QWEN3_VL_PROCESSOR,
        QWEN2_5_VL_3B,
        QWEN2_5_VL_PROCESSOR,
        WALL_OSS_FLOW,
        WALL_OSS_TOKENIZER,
        INTERNVL3_1B,
        INTERNVL3_TOKENIZER,
        QWEN3_VL_2B,
        VJEPA2_VITL,
    )
}


@dataclass(frozen=True)
class PublishedCount:
    """A parameter count the authors publish for a policy at its default size."""

    parameters: int | None  # None: no count is published (or none found offline)
    source: str
    verified_offline: bool  # whether the figure could be read on this machine


PUBLISHED_PARAMETERS: dict[str, PublishedCount] = {
    "multi_task_dit": PublishedCount(
        None,
        "none published for the policy. Its CLIP ViT-B/16 is 149,620,737 parameters as a whole: OpenAI's clip "
        "package counts ViT-B/32 at 151,277,313 (printed in public code found offline), and B/16 differs only by "
        "its patch embedding (-1,769,472) and position embeddings (+112,896); policybench's CLIP config gives "
        "both counts exactly (tests/integration/test_offline_backbones.py). LeRobot keeps CLIPVisionModel and "
        "CLIPTextModel of it, without CLIP's two projections and logit scale (655,361)",
        True,
    ),
    "xvla": PublishedCount(
        900_000_000,
        "X-VLA-0.9B: the name the authors give the model (arXiv 2510.10274, 2toINF/X-VLA README); "
        "a rounded figure, not an exact count",
        True,
    ),
    "groot": PublishedCount(
        3_000_000_000,
        "GR00T-N1.7-3B: the size in the model's name (nvidia/GR00T-N1.7-3B); a rounded figure. "
        "LeRobot's GR00T_N1_7_DEFAULTS built as LeRobot builds it: 3,144.0 M (backbone 1,523.5 M with 16 of 28 "
        "language layers, action head 1,620.5 M)",
        True,
    ),
    "eo1": PublishedCount(
        3_750_000_000,
        "EO-1 is Qwen2.5-VL-3B-Instruct with a flow-matching action head (arXiv 2508.21112); "
        "Qwen2.5-VL-3B-Instruct is 3.75 B on its hub page (not reachable here): the figure is the VLM's",
        False,
    ),
    "wall_x": PublishedCount(
        4_220_000_000,
        "WALL-OSS: 4.22 B parameters (BF16) on the model cards of x-square-robot/wall-oss-flow and wall-oss-fast, read "
        "offline only as a third party's paraphrase of those cards (captured 2025-09-08) in the code index. "
        "policybench's WALL_OSS_FLOW built as LeRobot builds it: 4,221.9 M (vision 668.7 M, language model with its "
        "action expert 3,540.5 M, embeddings resized to the 152,691-token WALL-OSS tokenizer; action head 12.8 M)",
        True,
    ),
    "evo1": PublishedCount(
        770_000_000,
        "Evo-1: 'with only 0.77 billion parameters' (Lin et al., arXiv 2511.04555, abstract; read offline as a page "
        "excerpt in the search index); a rounded figure. LeRobot's default Evo-1 built from the local InternVL3-1B-hf "
        "config: 775.2 M (InternVLModel 802.3 M cut to 14 of its 24 language layers: 653.2 M; the flow-matching "
        "head 122.0 M)",
        True,
    ),
    "vla_jepa": PublishedCount(
        None,
        "none published for the policy (arXiv 2602.10098 names its parts, not a count). LeRobot's default VLA-JEPA "
        "built from the local configs: Qwen3-VL-2B-Instruct 2,127.5 M (the '2B' of its name), V-JEPA 2 ViT-L 326.0 M "
        "(its encoder 303.9 M, the ViT-L '300M' of the V-JEPA 2 paper, arXiv 2506.09985; and its predictor), "
        "LeRobot's action-conditioned predictor 161.6 M and DiT-B action head about 155 M (with the robot's state "
        "and action sizes): about 2,770 M",
        False,
    ),
    "pi0_fast": PublishedCount(
        None,
        "pi0-FAST is PaliGemma 3B decoding FAST tokens (arXiv 2501.09747): no exact count is published "
        "for it; LeRobot builds PaliGemma alone (SigLIP So400m + Gemma 2B, no action expert)",
        False,
    ),
}
