// Package broadcast sends each message to a group of WebSocket connections:
// the fan-out of a chat room, a price feed or a dashboard. A message is
// framed, and compressed where the negotiated parameters allow, once for the
// whole group (conn.PreparedMessage), then queued for every member; each
// member's queue is drained by a writer of its own, so a member that cannot
// keep up delays no one but itself.
//
// # Join before the first read
//
// Join a connection to its group right after the handshake, before the
// first read:
//
//	c, err := server.Accept(w, r, opts)
//	if err != nil {
//		return
//	}
//	room.Join(c) // first: every message broadcast from now on reaches c
//	defer room.Leave(c)
//	for {
//		typ, msg, err := c.ReadMessage(ctx, buf[:0])
//		...
//		room.Broadcast(typ, msg)
//	}
//
// A client may send its first message the moment the handshake completes,
// and other members may answer it at once. Joined before the read, the
// connection receives everything broadcast after that read, its own first
// message included; joined later (after a "hello" message, or from another
// goroutine), it misses whatever the room said in between.
//
// What was broadcast before Join is not sent, even if the client had
// already seen the handshake complete: Accept answers 101 before it
// returns. A client that must know from when on it receives everything
// waits for its own first message to come back (Example_chatRoom), or the
// application sends it the history it needs after Join.
//
// # Slow members
//
// Broadcast never waits for a member: it appends the message to each
// member's queue of at most Options.QueueSize messages (64 by default) and
// returns. A member whose queue is full when a message arrives is handled
// by Options.Policy:
//
//   - CloseSlow (the default) closes the member with 1008 Policy
//     Violation (RFC 6455 §7.4.1) and removes it from the group. A member
//     receives every message in order or learns, from the close code, that
//     it was cut off and should reconnect and catch up; nothing is lost
//     silently, and a stalled peer is released as soon as its queue
//     overflows (its close frame cannot get past the write the peer
//     blocks, so the connection is closed after its
//     conn.Options.CloseTimeout, 5 s by default).
//   - DropOldest discards the member's oldest queued message to make room
//     and counts it (Group.Dropped). It suits feeds where only the latest
//     state matters; a stalled peer then stays a member until its
//     connection's write timeout (conn.Options.WriteTimeout, 30 s by
//     default) fails a write.
//
// Every write is bounded by the member connection's own
// conn.Options.WriteTimeout; a member whose write fails leaves the group.
//
// # Costs
//
// A member holds its queue (up to QueueSize pointers, grown as needed and
// then reused) and, only while its queue is non-empty, one goroutine: the
// writer starts when a message is queued for an idle member and exits when
// the queue is empty, so idle members cost no goroutine. Broadcast
// allocates the PreparedMessage and its frame once per message, whatever
// the group's size; queuing it for a member and writing it allocates
// nothing once that member's queue has grown (TestBroadcastAllocs). On a
// server connection without compression, or with permessage-deflate
// without context takeover on the server's side, each write is a copy of
// the prepared frame; see conn.PreparedMessage for the other cases.
package broadcast
