// Command ours serves echo.Handler, the same code as examples/echo, with a
// -cpuprofile option: cmd/compare measures examples/echo itself and uses
// this command only to profile our server.
package main

import "github.com/rfc6455/ws/bench/servers"

func main() { servers.Main("ours", nil) }
