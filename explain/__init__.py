"""A claim's settlement in words and pictures: the trace's facts worded in Chinese
(trace_zh.py) and English (trace_en.py), rendered as text, Markdown and one-file
HTML, and the evaluation graph drawn with graphviz, a claim's path overlaid."""
