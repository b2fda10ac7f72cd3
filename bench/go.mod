module github.com/spoolhttp/spool/bench

go 1.26.0

require (
	github.com/spoolhttp/spool v0.0.0
	github.com/valyala/fasthttp v1.74.0
	golang.org/x/net v0.62.0
)

require (
	github.com/andybalholm/brotli v1.2.8 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/spoolhttp/spool => ../
