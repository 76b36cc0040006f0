/* agent-protocol-version.h — the agent protocol's version, alone, for
 * what speaks it without GLib (the tests' fake and hostile guests). */
#pragma once

/* 2: pad bytes between frames, and resync (PROTOCOL.md). */
#define AGENT_PROTOCOL_VERSION 2
