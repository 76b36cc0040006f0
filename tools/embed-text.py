#!/usr/bin/env python3
"""embed-text.py NAME INPUT OUTPUT: writes a C file defining
`const char NAME[]` with INPUT's text, so a binary carries its schema or
introspection XML instead of looking for a file at run time."""
import json
import sys

name, src, out = sys.argv[1:4]
text = open(src, encoding="utf-8").read()
with open(out, "w", encoding="utf-8") as f:
    f.write("/* Generated from %s by embed-text.py. */\n" % src.split("/")[-1])
    f.write("extern const char %s[];\n" % name)
    f.write("const char %s[] = %s;\n" % (name, json.dumps(text)))
