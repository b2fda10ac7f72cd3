package h2

import (
	"encoding/binary"

	"golang.org/x/net/http2"
)

// Frames are appended straight into the write queue's buffer (RFC 9113 §4.1
// layout), so a DATA payload is copied once, from the caller's bytes to the
// buffer the socket write takes. x/net's Framer is used for reading only:
// its write side would copy every frame through its own buffer first.

const frameHeaderLen = 9

// defaultMaxFrameSize is SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113
// §6.5.2); we never advertise more, and send no larger frame than the peer's.
const defaultMaxFrameSize = 16384

func appendFrameHeader(b []byte, length int, t http2.FrameType, flags http2.Flags, id uint32) []byte {
	return append(b, byte(length>>16), byte(length>>8), byte(length), byte(t), byte(flags),
		byte(id>>24)&0x7f, byte(id>>16), byte(id>>8), byte(id))
}

func appendData(b []byte, id uint32, end bool, p []byte) []byte {
	var fl http2.Flags
	if end {
		fl = http2.FlagDataEndStream
	}
	b = appendFrameHeader(b, len(p), http2.FrameData, fl, id)
	return append(b, p...)
}

// appendHeaderBlock writes block as one HEADERS frame and as many
// CONTINUATION frames as maxFrame requires; they are contiguous in the
// buffer, as §6.10 demands.
func appendHeaderBlock(b []byte, id uint32, end bool, block []byte, maxFrame int) []byte {
	t := http2.FrameHeaders
	first := true
	for {
		n := min(len(block), maxFrame)
		var fl http2.Flags
		if first && end {
			fl |= http2.FlagHeadersEndStream
		}
		if n == len(block) {
			fl |= http2.FlagHeadersEndHeaders
		}
		b = appendFrameHeader(b, n, t, fl, id)
		b = append(b, block[:n]...)
		block = block[n:]
		if len(block) == 0 {
			return b
		}
		t, first = http2.FrameContinuation, false
	}
}

func appendRST(b []byte, id uint32, code http2.ErrCode) []byte {
	b = appendFrameHeader(b, 4, http2.FrameRSTStream, 0, id)
	return binary.BigEndian.AppendUint32(b, uint32(code))
}

func appendWindowUpdate(b []byte, id uint32, incr uint32) []byte {
	b = appendFrameHeader(b, 4, http2.FrameWindowUpdate, 0, id)
	return binary.BigEndian.AppendUint32(b, incr&0x7fffffff)
}

func appendPing(b []byte, ack bool, data [8]byte) []byte {
	var fl http2.Flags
	if ack {
		fl = http2.FlagPingAck
	}
	b = appendFrameHeader(b, 8, http2.FramePing, fl, 0)
	return append(b, data[:]...)
}

func appendSettings(b []byte, s ...http2.Setting) []byte {
	b = appendFrameHeader(b, 6*len(s), http2.FrameSettings, 0, 0)
	for _, x := range s {
		b = binary.BigEndian.AppendUint16(b, uint16(x.ID))
		b = binary.BigEndian.AppendUint32(b, x.Val)
	}
	return b
}

func appendSettingsAck(b []byte) []byte {
	return appendFrameHeader(b, 0, http2.FrameSettings, http2.FlagSettingsAck, 0)
}

// appendGoAway names lastStream, the last server-initiated stream we
// processed: always 0, as we accept none (RFC 9113 §6.8; x/net wrongly names
// a client stream, golang/go#80759).
func appendGoAway(b []byte, code http2.ErrCode, debug string) []byte {
	b = appendFrameHeader(b, 8+len(debug), http2.FrameGoAway, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(code))
	return append(b, debug...)
}
