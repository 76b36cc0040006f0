#!/usr/bin/env python3
"""Writes a C file holding the schema as a string (rpc_schema_json)."""
import json
import sys

src, out = sys.argv[1], sys.argv[2]
text = json.dumps(json.load(open(src)), separators=(",", ":"))
with open(out, "w") as f:
    f.write("/* Generated from %s by embed-schema.py. */\n" % src.split("/")[-1])
    f.write("extern const char rpc_schema_json[];\n")
    f.write("const char rpc_schema_json[] = %s;\n" % json.dumps(text))
