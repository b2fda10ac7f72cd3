module github.com/spoolhttp/spool/promspool

go 1.26.0

require github.com/spoolhttp/spool v0.0.0

require (
	github.com/prometheus/client_golang v1.25.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
)

replace github.com/spoolhttp/spool => ../
