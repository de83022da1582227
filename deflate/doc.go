// Package deflate implements the payload transformation of the WebSocket
// permessage-deflate extension (RFC 7692 §7.2) with its own DEFLATE
// (RFC 1951) encoder and decoder, whose memory is proportional to the
// negotiated window.
//
// The package works on bytes, io.Reader and io.Writer; it knows nothing of
// frames or connections. A connection uses one [Compressor] for the
// messages it sends and one [Decompressor] for those it receives, created
// with the window bits and context takeover negotiated for each direction
// (RFC 7692 §7.1), and [AppendCompressed] for messages prepared once and
// sent to many connections.
//
// # Why not compress/flate
//
// compress/flate always compresses with a 32 KiB window, so a compressor
// built on it cannot honour server_max_window_bits or
// client_max_window_bits below 15 (RFC 7692 §7.1.2) and must decline such
// offers, and its Writer holds about 1.2 MB at BestSpeed (800 KB at the
// default level) for the life of a connection with context takeover. Its
// Reader holds a 32 KiB window plus tables, about 40 KiB, whatever the
// window negotiated. This package sizes everything by the window: the
// LZ77 history, the match finder's hash table, the decoder's window.
//
// # The transformation (RFC 7692 §7.2.1, §7.2.2)
//
// A message is compressed as DEFLATE blocks ended by a sync flush, an
// empty stored block, whose last four bytes 00 00 ff ff are not sent.
// The Compressor never produces them: it ends a message with the stored
// block's 3 header bits and padding, so an empty message is the single
// byte 0x00 (RFC 7692 §7.2.3.6). The Decompressor appends 00 00 ff ff
// to what it reads and decodes until the data ends at a block boundary.
// It accepts everything RFC 7692 §7.2.3 shows: several blocks in a
// message, stored blocks, and blocks with BFINAL set (§7.2.3.4), after
// which it skips to the next byte and, if more than the appended tail
// follows, decodes it as a new DEFLATE stream sharing the window (as
// §7.2.1 describes).
//
// With context takeover (the default, RFC 7692 §7.1.1), each direction's
// LZ77 window runs on from one message to the next, so a message may
// refer to earlier ones. Without it ("server_no_context_takeover",
// "client_no_context_takeover"), each message stands alone.
//
// # The encoder
//
// Matches are found with a single-probe hash table of 4-byte sequences
// (like compress/flate's BestSpeed and Snappy), greedily at levels 1-3 and
// with one step of lazy evaluation at levels 4-9. The table has
// 2^min(W+1, 12) uint16 entries holding the low 16 bits of stream
// positions; a candidate is used only after its bytes are compared and
// only if it lies within the window (distance <= 2^W) and inside this
// stream's data, which is what makes windows below 15 bits correct and
// keeps recycled buffers unreadable. Every block is written in whichever
// of the stored, fixed Huffman and dynamic Huffman encodings is smallest,
// computed exactly; dynamic codes are length-limited (15 bits, 7 for the
// code length code) Huffman codes built in linear time, with
// package-merge when the limit binds. Input that looks incompressible
// (estimated from a 1 KiB sample) is stored without being parsed, at
// about twice the cost of copying it.
//
// # Memory
//
// A Compressor and a Decompressor allocate nothing until their first
// message. Between messages, with context takeover, a connection holds
// (W = window bits; measured heap per connection in parentheses, from
// TestMemoryPerConnection over 1000 connections):
//
//	W    compressor                       decompressor   total
//	8    1.25 KiB buffer + 1 KiB table    512 B window   2.75 KiB (3.2 KiB)
//	12   5 KiB buffer + 8 KiB table       4 KiB window   17 KiB   (17.7 KiB)
//	15   32 KiB buffer + 8 KiB table      32 KiB window  72 KiB   (72.3 KiB)
//
// which is within 2*2^W + 16 KiB for every W. The compressor's buffer is
// the window plus room for new input (2^W/8, at least 1 KiB); at W=15 it
// keeps 28 KiB of history rather than 32 so that buffer and room fit in
// one 32 KiB allocation. The decompressor keeps at least 512 bytes
// (see NewDecompressor).
//
// Without context takeover a connection holds nothing between messages
// (the structs themselves, 208 and 120 bytes): buffers come from pools,
// keyed by window size, when a message starts, and go back when it ends.
//
// While a message is being compressed, the compressor also uses about
// 35 KiB of pooled scratch (block tokens, Huffman tables, the byte counts
// that spot incompressible input, output buffer),
// and a message longer than 2^W/4 bytes (at least 1 KiB) borrows a
// 2^W + 64 KiB buffer from a pool for its duration. While a message is
// being decompressed, the decompressor uses about 22 KiB of pooled state
// (a 16 KiB input buffer, decoding tables). Pooled memory is shared by
// all connections, so it scales with the number of messages in flight,
// not with the number of connections. In steady state no message
// allocates. Nothing large lives in stack frames either: compressing and
// decompressing fit in a 4 KiB goroutine stack (TestStackUse), which
// matters because a goroutine keeps the stack it grew to until the
// garbage collector shrinks it.
//
// # Limits
//
// The Decompressor's window is also its output buffer: it decodes until
// the window holds as many unread bytes as it can and resumes when they
// are read, so a message costs the window whatever its size. The read
// limit counts decompressed bytes: a message fails with ErrMessageTooBig
// as soon as it passes the limit, having consumed only the input needed to
// get there (about 1 KiB of input per MiB for a maximally compressed one).
// [CloseCode] maps the errors to close codes 1009 and 1007.
//
// # Choosing the options
//
// Context takeover compresses small messages far better (a chat message
// often shrinks to a few bytes of back-references) at the memory cost
// above, for every connection, idle or not; without it a server with many
// idle connections holds nothing for compression. Smaller windows cut
// that memory at some cost in compression; W=12 suits small messages.
// Level 1 (BestSpeed) is the default; levels 4-9 give 4-5% smaller output
// on the test corpus for 10-30% less speed.
//
// A middle way keeps context takeover while messages flow and drops the
// compressor's share once a connection is quiet: conn.Options'
// ReleaseCompressionAfter calls [Session.ReleaseIdle], after which the
// next message is compressed on its own (RFC 7692 §7.1.1 lets a
// compressor refer to earlier messages but never obliges it to). The decompressor's window
// cannot be dropped while the peer takes over its context, since the
// peer's next message may refer to it; a server that answers
// client_no_context_takeover (ServerOptions.ClientNoContextTakeover) as
// well keeps nothing for a quiet connection: about 1 KiB per server
// endpoint, against 72.8 KiB with context takeover both ways
// (TestCompressionMemoryPerConnection in package client).
package deflate
