package frame

import "strconv"

// Opcode is the 4-bit frame type (RFC 6455 §5.2, §11.8).
type Opcode uint8

// Opcodes defined by RFC 6455 §5.2. Values 0x3-0x7 and 0xB-0xF are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (most significant bit set,
// RFC 6455 §5.5).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsReserved reports whether op is one of the opcodes RFC 6455 reserves for
// future use (0x3-0x7, 0xB-0xF).
func (op Opcode) IsReserved() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode(" + strconv.Itoa(int(op)) + ")"
}
