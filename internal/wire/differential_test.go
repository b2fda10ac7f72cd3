package wire

import "testing"

// Hand-picked edge cases for the differential check, beyond the seeds.
var differentialCases = []string{
	"HTTP/1.1 200 OK\r\nX: a\r\n \r\nContent-Length: 0\r\n\r\n", // blank continuation keeps a trailing SP
	"HTTP/1.1 200 OK\r\nX:\r\n b\r\nContent-Length: 0\r\n\r\n",  // value only on the continuation
	"HTTP/1.1 200 OK\r\nX: caf\xc3\xa9 \xff\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n0123456",
	"HTTP/1.1 099 Odd\r\nContent-Length: 1\r\n\r\nx",
	"HTTP/1.1 200 OK\r\nX: 1\r\n\r", // truncated terminator
	"HTTP/1.1 200 OK\r\nX: 1\r\n\rX\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTrailer: X-A\r\nContent-Length: 0\r\n\r\n", // Trailer without chunking stays in Header
	"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nCache-Control: max-age=1\r\nContent-Length: 0\r\n\r\n",
	chunkedHead + "5 \t\r\nhello\r\n0\r\n\r\n",
	chunkedHead + "5;a=\"b;c\"\r\nhello\r\n0;x\r\n\r\n",
	chunkedHead + "5\r\nhello\r\n0\r\nX-Sum: a\r\n b\r\n\r\n", // folded trailer
	chunkedHead + "5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-Sum: 2\r\nHost: h\r\n\r\n",
	chunkedHead + "5\r\nhello\r\n0\r\n\r",
	chunkedHead + "5\r\nhello\r\n0\r\n",
	chunkedHead + "5\r\nhello\r\r\n0\r\n\r\n",
	chunkedHead + "\r\n",
	chunkedHead + "0000000000000000\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n",
	"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
}

func TestDifferentialEdgeCases(t *testing.T) {
	for _, in := range differentialCases {
		for _, m := range fuzzMethods {
			compareWithNetHTTP(t, m, in, true)
		}
	}
}
