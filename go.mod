module github.com/rfc6455/ws

go 1.26
