"""The prose of worked solutions in Chinese, in the words seed 004 uses
(前向传播, 反向传播, 通过时间反向传播, 损失函数, 原文答案)."""

STRINGS: dict[str, str] = {}
