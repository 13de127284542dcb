"""GPT-2-style decoder-only transformer used for Feature Lens's bundled tiny-lm.

Structure (names match Hugging Face GPT-2 where it makes sense):

    wte (token embedding, tied with lm_head) + wpe (learned positions)
    h[i] for i in range(n_layer):           # pre-LayerNorm blocks
        a = attn(ln_1(x));  x = x + a        # resid_mid = resid_pre + attn_out
        m = mlp(ln_2(x));   x = x + m        # resid_post = resid_mid + mlp_out
    ln_f -> lm_head (no bias)

The model takes an explicit attention_mask (1 = real token, 0 = padding) and
explicit position_ids so that the exported ONNX graph has the Optimum-style
interface input_ids / attention_mask / position_ids -> logits.
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn


@dataclass
class Config:
    vocab_size: int = 4096
    n_positions: int = 256
    n_embd: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_inner: int = 512  # 4 * n_embd
    layer_norm_epsilon: float = 1e-5
    tie_word_embeddings: bool = True

    def to_dict(self):
        return asdict(self)


def gelu_tanh(x):
    # GPT-2's GELU (tanh approximation), written out so ONNX opset 17 needs no Gelu op.
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.head_dim = cfg.n_embd // cfg.n_head
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)

    def forward(self, x, bias):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # B H T D
        k = k.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        att = torch.softmax(att + bias, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, cfg.n_inner)
        self.c_proj = nn.Linear(cfg.n_inner, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(gelu_tanh(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x, bias):
        x = x + self.attn(self.ln_1(x), bias)
        x = x + self.mlp(self.ln_2(x))
        return x


class TinyGPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.wte.weight
        self.apply(self._init)
        # GPT-2: scale residual output projections by 1/sqrt(2 * n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def num_params(self):
        return sum(p.numel() for p in self.parameters())  # tied weights counted once

    @staticmethod
    def attention_bias(attention_mask, T, dtype):
        """Additive bias [B,1,T,T]: 0 where query i may attend key j (j <= i and
        key j is not padding), a large negative number otherwise."""
        idx = torch.arange(T, device=attention_mask.device)
        causal = idx.unsqueeze(0) <= idx.unsqueeze(1)  # [T(query), T(key)]
        keys = attention_mask[:, None, None, :] > 0  # [B,1,1,T]
        allowed = causal[None, None, :, :] & keys
        zero = torch.zeros((), dtype=dtype)
        neg = torch.full((), -1e9, dtype=dtype)
        return torch.where(allowed, zero, neg)

    def forward(self, input_ids, attention_mask=None, position_ids=None):
        B, T = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if position_ids is None:
            position_ids = torch.arange(T, device=input_ids.device).unsqueeze(0).expand(B, T)
        x = self.wte(input_ids) + self.wpe(position_ids)
        bias = self.attention_bias(attention_mask, T, x.dtype)
        for block in self.h:
            x = block(x, bias)
        return self.lm_head(self.ln_f(x))
