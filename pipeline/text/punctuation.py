"""Sentence-terminal punctuation of the world's scripts (Unicode's Sentence_Terminal, BMP part)."""

SENTENCE_TERMINALS = frozenset(".!?։؟۔܀܁܂߹।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼。꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？｡")
SENTENCE_TERMINAL_TUPLE = tuple(sorted(SENTENCE_TERMINALS))  # for str.endswith
