module github.com/spoolhttp/spool/compat/retryablehttp

go 1.26.0

require (
	github.com/hashicorp/go-retryablehttp v0.7.8
	github.com/spoolhttp/spool v0.0.0
)

require (
	github.com/andybalholm/brotli v1.2.8 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/spoolhttp/spool => ../..
