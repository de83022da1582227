module github.com/rfc6455/ws/examples/apps

go 1.26.0

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/rfc6455/ws v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/rfc6455/ws => ../../
