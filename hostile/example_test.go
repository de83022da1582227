package hostile_test

import (
	"fmt"
	"time"

	"github.com/rfc6455/ws/hostile"
)

// Select picks attacks by name, as wshostile's -run does; Run would run
// them against the server and Table print the results.
func Example() {
	c, err := hostile.NewConfig("ws://127.0.0.1:9001/")
	if err != nil {
		panic(err)
	}
	c.Release = time.Second // the server under test fails connections within 1 s
	attacks, _ := hostile.Select(hostile.Attacks(c), "^close/code-")
	for _, a := range attacks {
		fmt.Println(a.Name, "->", a.Expect)
	}
	// With a server at the URL:
	//	hostile.Table(os.Stdout, hostile.Run(ctx, c, attacks))

	// Output:
	// close/code-999 -> close 1002, TCP closed within -release
	// close/code-1004 -> close 1002, TCP closed within -release
	// close/code-1005 -> close 1002, TCP closed within -release
	// close/code-1006 -> close 1002, TCP closed within -release
	// close/code-1015 -> close 1002, TCP closed within -release
	// close/code-5000 -> close 1002, TCP closed within -release
}
