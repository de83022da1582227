// Package cases defines the 517 fuzzing cases of Autobahn|Testsuite, with
// the original's IDs, descriptions, expectations, octets, waits and
// verdict adjustments, written from the published case definitions.
//
//	1.x   framing: text and binary messages at each length encoding (RFC 6455 §5.2)
//	2.x   pings and pongs (§5.5.2, §5.5.3)
//	3.x   reserved bits (§5.2)
//	4.x   reserved opcodes (§5.2)
//	5.x   fragmentation (§5.4)
//	6.x   UTF-8 (§5.6, §8.1), including fail-fast (6.4) and Markus Kuhn's decoder tests (6.5-6.23)
//	7.x   close handling (§5.5.1, §7)
//	9.x   limits and performance (large messages, fragments, chops, round trips)
//	10.x  automatic fragmentation
//	12.x  permessage-deflate with five kinds of payload (RFC 7692)
//	13.x  permessage-deflate with each combination of offer and accept parameters
//
// Sections 12 and 13 take their payloads from five data files of the
// original (a novel, a bitmap, a PDF, a JSON and an HTML file) that are not
// redistributed here: [Generated] makes data of the same kind and the same
// size, and [LoadTestData] reads the original files when they are at hand.
package cases
