// Package event serves WebSocket connections from epoll loops instead of a
// goroutine per connection: for servers that hold very many connections,
// most of them idle (push, presence, game lobbies, gateways).
//
// # Model
//
// Serve accepts connections on a *net.TCPListener and spreads them over
// Options.Loops epoll loops (Linux; ErrUnsupported elsewhere). A loop reads
// whatever a ready socket holds into one buffer it owns, runs the opening
// handshake (server.AcceptOptions.Negotiate: the same checks, origin
// policy and negotiation as server.Serve) and then the protocol core
// shared with package conn (internal/proto): frame rules, fragmentation,
// UTF-8, control frames, the closing handshake, limits, and
// permessage-deflate through the same conn.Extension. Messages, and the
// opening and closing of each connection, go to the Handler's callbacks,
// which run on a bounded pool of Options.Workers goroutines, in order per
// connection.
//
// # Beside net/http
//
// A server whose page and WebSocket endpoint share one port lets net/http
// route the request and hands the connection over: NewServer starts the
// loops and workers once, Server.Upgrade(w, r) in the endpoint's handler
// negotiates with the same AcceptOptions, hijacks the connection, writes
// the 101 and moves the socket (a duplicate of its descriptor; Go's
// net.Conn is closed) to a loop, which first gives the protocol any bytes
// net/http had already read past the request. Server.Close ends the
// connections as Serve's context does. Serve is NewServer, an accept
// loop, and Close.
//
// An idle connection holds no goroutine and no buffer: its socket, its
// Conn (the protocol state and the application's value, under 1 KiB) and
// an entry in a descriptor table. A message being received is assembled
// in a pooled buffer that goes back to its pool after OnMessage returns.
//
// # Writing
//
// Conn.WriteMessage may be called from any goroutine. It writes to the
// socket at once when nothing is queued (no loop round trip); what the
// socket does not take is queued, and the loop sends it when the socket
// becomes writable. The queue is bounded per connection
// (Options.WriteQueueLimit, 1 MiB by default), and Options.QueueFull says
// what happens at the bound: Block (wait, at most WriteTimeout), Drop (the
// message is not sent) or Close (1008). BufferedAmount reports what is
// queued, like the browser's WebSocket.bufferedAmount.
//
// # Timeouts and limits
//
// One goroutine per Serve enforces the deadlines of all connections a few
// times a second: the handshake timeout, the close timeout, the write
// timeout of a peer that does not read, and the keepalive (a ping after
// KeepAliveInterval of silence, close with 1011 when nothing answers
// within KeepAliveTimeout), with the defaults of package conn. The read
// limit and the bound on frames per message are checked on each frame
// header before its payload is read. Received messages waiting for their
// callbacks are bounded per connection (Options.MaxPendingInput): past it
// the loop stops reading that socket, and TCP pushes back on the peer.
//
// # TLS
//
// The event mode speaks plain TCP only; Serve refuses any listener that
// is not a *net.TCPListener with ErrNotTCP. At the scale it is for, TLS is
// usually terminated in front of the servers; otherwise use server.Serve.
//
// # Choosing a mode
//
// The goroutine mode (server.Serve, server.Accept, conn.Conn) has the
// simpler programming model (a read loop per connection, blocking calls,
// context cancellation), supports TLS and every conn.Options field, and
// costs about 5.5 KiB per idle connection. The event mode costs about a
// tenth of that (README "Very many connections" has the measurements) in
// exchange for callbacks and a write queue.
package event
