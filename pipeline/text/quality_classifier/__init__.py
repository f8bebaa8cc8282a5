"""fastText quality classification without Beam: text preparation, scoring, deterministic
training, validation figures and the selection rules (GPT-3's Pareto draw, DCLM's top fraction)."""
