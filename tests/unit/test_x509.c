/* test_x509.c - certificate names, host names, wildcard matching, and the
 * self-signed P-256 certificate checked against BearSSL's own decoder. */
#include <bearssl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/net/x509.h"
#include "tap.h"

/* openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=cn.example
 *   -addext "subjectAltName=DNS:a.example.org,DNS:*.b.example.org,IP:127.0.0.1"
 *   -days 2 -keyout /dev/null -outform DER */
static const uint8_t cert_openssl_san[] = {
	0x30, 0x82, 0x03, 0x3e, 0x30, 0x82, 0x02, 0x26, 0xa0, 0x03, 0x02, 0x01,
	0x02, 0x02, 0x14, 0x31, 0x36, 0x58, 0x27, 0xf1, 0x88, 0xeb, 0x35, 0x48,
	0xa5, 0xfb, 0x55, 0x35, 0x3f, 0x4b, 0x6c, 0x7a, 0xc1, 0x91, 0x2b, 0x30,
	0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
	0x05, 0x00, 0x30, 0x15, 0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04,
	0x03, 0x0c, 0x0a, 0x63, 0x6e, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
	0x65, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x31, 0x32,
	0x32, 0x33, 0x38, 0x35, 0x37, 0x5a, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31,
	0x32, 0x33, 0x32, 0x32, 0x33, 0x38, 0x35, 0x37, 0x5a, 0x30, 0x15, 0x31,
	0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0a, 0x63, 0x6e,
	0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x30, 0x82, 0x01, 0x22,
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
	0x01, 0x05, 0x00, 0x03, 0x82, 0x01, 0x0f, 0x00, 0x30, 0x82, 0x01, 0x0a,
	0x02, 0x82, 0x01, 0x01, 0x00, 0xcb, 0xbf, 0x5f, 0xfc, 0x45, 0x54, 0x75,
	0x1b, 0x91, 0x34, 0x73, 0x8d, 0x4c, 0xc5, 0x58, 0x56, 0x1d, 0x5c, 0x4e,
	0x79, 0x9b, 0x70, 0x35, 0xdf, 0xfe, 0x4f, 0x4d, 0x99, 0xbf, 0x7f, 0xcf,
	0xe4, 0x1d, 0xd4, 0x6f, 0xc0, 0x0a, 0x2a, 0x13, 0x12, 0x07, 0x2b, 0xf2,
	0x27, 0x8b, 0x6a, 0xfc, 0x51, 0x74, 0x7a, 0x70, 0x3b, 0x93, 0xcb, 0x67,
	0x13, 0xfd, 0x4d, 0xc2, 0x9c, 0x0b, 0x9f, 0xf2, 0x19, 0x1b, 0x9f, 0x76,
	0x94, 0x96, 0x66, 0x89, 0x5b, 0xfc, 0xb2, 0x80, 0x92, 0xe8, 0x96, 0x8f,
	0xb0, 0x14, 0x23, 0x86, 0x32, 0xdc, 0xe0, 0x59, 0x60, 0x59, 0xb8, 0x9f,
	0xd0, 0x41, 0x08, 0xcb, 0x1c, 0x59, 0xf1, 0xfe, 0xf8, 0x77, 0x00, 0x64,
	0x32, 0x6e, 0x5b, 0x61, 0xf7, 0x5a, 0x3c, 0xdc, 0x3c, 0x1c, 0xd0, 0x41,
	0xac, 0x21, 0xc5, 0x43, 0x5c, 0x06, 0x63, 0xb4, 0x46, 0xde, 0xd3, 0xcc,
	0x62, 0x24, 0x89, 0x57, 0x36, 0x9e, 0x0a, 0x9a, 0x83, 0x44, 0xa7, 0x67,
	0xac, 0x4b, 0xa7, 0xdc, 0xd4, 0x21, 0x11, 0xec, 0x39, 0x7b, 0x0e, 0x7e,
	0xf7, 0x85, 0x58, 0xd6, 0x81, 0xaf, 0x93, 0x3b, 0xb8, 0xc3, 0x76, 0xc5,
	0xdb, 0x1c, 0x52, 0x09, 0x0a, 0xae, 0xe0, 0x0c, 0xd8, 0x4c, 0x11, 0x1f,
	0xa1, 0xa8, 0x78, 0xf4, 0x01, 0x66, 0x6a, 0x23, 0x36, 0x82, 0x31, 0x75,
	0x35, 0x79, 0xbd, 0x5f, 0xea, 0xf0, 0x97, 0x25, 0x9b, 0x56, 0x96, 0x3d,
	0xc3, 0xda, 0x36, 0x86, 0xf0, 0xf1, 0x78, 0x4b, 0x4e, 0x1e, 0x27, 0xb8,
	0xf1, 0xc7, 0x11, 0x84, 0x18, 0xb6, 0x39, 0xd8, 0x99, 0x79, 0x37, 0x15,
	0xe0, 0xaa, 0x6f, 0xf7, 0xe8, 0xfd, 0x80, 0xb7, 0x70, 0xbe, 0xb7, 0xd6,
	0x6c, 0x9d, 0xcd, 0x98, 0xf8, 0x0e, 0x8b, 0xc6, 0xbd, 0xc5, 0xf8, 0xd4,
	0x28, 0x99, 0x00, 0xc8, 0xfb, 0xa4, 0x11, 0x59, 0x03, 0x02, 0x03, 0x01,
	0x00, 0x01, 0xa3, 0x81, 0x85, 0x30, 0x81, 0x82, 0x30, 0x1d, 0x06, 0x03,
	0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0xc0, 0x75, 0xb2, 0xba, 0x40,
	0xa6, 0x84, 0xd9, 0xc5, 0x84, 0x68, 0x28, 0x85, 0x29, 0x98, 0x1b, 0x95,
	0x29, 0xd2, 0xaf, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18,
	0x30, 0x16, 0x80, 0x14, 0xc0, 0x75, 0xb2, 0xba, 0x40, 0xa6, 0x84, 0xd9,
	0xc5, 0x84, 0x68, 0x28, 0x85, 0x29, 0x98, 0x1b, 0x95, 0x29, 0xd2, 0xaf,
	0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05,
	0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x2f, 0x06, 0x03, 0x55, 0x1d, 0x11,
	0x04, 0x28, 0x30, 0x26, 0x82, 0x0d, 0x61, 0x2e, 0x65, 0x78, 0x61, 0x6d,
	0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x82, 0x0f, 0x2a, 0x2e, 0x62,
	0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67,
	0x87, 0x04, 0x7f, 0x00, 0x00, 0x01, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00, 0x03, 0x82, 0x01,
	0x01, 0x00, 0x57, 0x5a, 0x9f, 0xa7, 0xf2, 0x1f, 0xb8, 0x4f, 0x7b, 0xa1,
	0xa5, 0x9f, 0x5f, 0xad, 0x3d, 0xa6, 0x1f, 0xe1, 0xee, 0x0b, 0x26, 0x28,
	0x88, 0x61, 0x69, 0xb8, 0xfb, 0x88, 0xf0, 0x04, 0xb4, 0x11, 0xfe, 0xbd,
	0xd3, 0xf7, 0x21, 0x49, 0x15, 0x22, 0x44, 0x81, 0xe2, 0x09, 0x8d, 0xf9,
	0x64, 0x3a, 0x27, 0xe5, 0x1c, 0x37, 0xa8, 0xbe, 0x10, 0x66, 0xe3, 0x7d,
	0xd3, 0x1a, 0x52, 0xce, 0xba, 0xb9, 0x9f, 0xf9, 0xb7, 0x6a, 0x16, 0x1b,
	0x33, 0xbd, 0xe7, 0x58, 0xe7, 0x83, 0x2d, 0xe9, 0x51, 0xcb, 0x24, 0xc4,
	0x88, 0xd5, 0x0d, 0xf9, 0x2c, 0xf3, 0xcb, 0xf4, 0x95, 0xd1, 0xcb, 0x5e,
	0x9a, 0x4d, 0x67, 0x7d, 0x74, 0x4e, 0x01, 0x12, 0x1a, 0x0a, 0xed, 0xef,
	0x1b, 0xd3, 0x56, 0x8b, 0x27, 0x40, 0x68, 0xff, 0x93, 0x18, 0x06, 0xcc,
	0x2f, 0xdd, 0x62, 0xc3, 0x04, 0x1c, 0x72, 0x45, 0x07, 0xe2, 0xd8, 0x21,
	0x17, 0x4a, 0xdd, 0x3e, 0xaf, 0x4c, 0x2c, 0x10, 0x49, 0x45, 0x60, 0x68,
	0xb5, 0x32, 0x2e, 0x9c, 0xba, 0x50, 0xa3, 0x75, 0xaf, 0x69, 0x54, 0x5b,
	0x44, 0x93, 0xc0, 0x4b, 0xa9, 0xc5, 0xf1, 0x4c, 0x42, 0xd9, 0x79, 0x60,
	0x78, 0x98, 0xfe, 0x54, 0x7b, 0x4f, 0x41, 0x60, 0x99, 0x9a, 0x28, 0x61,
	0x5d, 0x35, 0x9c, 0x87, 0x13, 0xba, 0x31, 0xf1, 0x9f, 0xa3, 0x06, 0x22,
	0x84, 0xea, 0x3e, 0xd0, 0x6f, 0x72, 0x0b, 0x69, 0xea, 0xdc, 0xa2, 0xa7,
	0xee, 0x61, 0xf2, 0x3f, 0xd7, 0x5f, 0xb1, 0x99, 0xd6, 0x72, 0x06, 0xe4,
	0xb6, 0x30, 0x7a, 0x83, 0xdb, 0x7b, 0x09, 0x1e, 0x4a, 0x15, 0x27, 0xb2,
	0xf6, 0x7b, 0xc6, 0x26, 0x9a, 0x68, 0xfb, 0x9a, 0xce, 0x58, 0xf5, 0x0d,
	0xa3, 0xc7, 0xd2, 0xc9, 0xdf, 0x47, 0x9e, 0x4d, 0x89, 0xef, 0x30, 0x1f,
	0x8e, 0x43, 0x26, 0x44, 0x99, 0xb9,
};

/* openssl req -x509 -newkey rsa:2048 -nodes
 *   -subj "/O=Example Org/CN=Mail.CN-Only.example" -days 2 -keyout /dev/null
 *   -outform DER (no subjectAltName) */
static const uint8_t cert_openssl_cn[] = {
	0x30, 0x82, 0x03, 0x4b, 0x30, 0x82, 0x02, 0x33, 0xa0, 0x03, 0x02, 0x01,
	0x02, 0x02, 0x14, 0x52, 0x5c, 0xcc, 0x1a, 0x90, 0xb5, 0x16, 0x1e, 0x3d,
	0x99, 0x2d, 0xfc, 0x9b, 0x9d, 0x19, 0xc8, 0x6d, 0x09, 0x6b, 0x5e, 0x30,
	0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
	0x05, 0x00, 0x30, 0x35, 0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04,
	0x0a, 0x0c, 0x0b, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x4f,
	0x72, 0x67, 0x31, 0x1d, 0x30, 0x1b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c,
	0x14, 0x4d, 0x61, 0x69, 0x6c, 0x2e, 0x43, 0x4e, 0x2d, 0x4f, 0x6e, 0x6c,
	0x79, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x30, 0x1e, 0x17,
	0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x31, 0x32, 0x32, 0x33, 0x38, 0x35,
	0x38, 0x5a, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x33, 0x32, 0x32,
	0x33, 0x38, 0x35, 0x38, 0x5a, 0x30, 0x35, 0x31, 0x14, 0x30, 0x12, 0x06,
	0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0b, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c,
	0x65, 0x20, 0x4f, 0x72, 0x67, 0x31, 0x1d, 0x30, 0x1b, 0x06, 0x03, 0x55,
	0x04, 0x03, 0x0c, 0x14, 0x4d, 0x61, 0x69, 0x6c, 0x2e, 0x43, 0x4e, 0x2d,
	0x4f, 0x6e, 0x6c, 0x79, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x82, 0x01, 0x0f, 0x00,
	0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00, 0xca, 0x5f, 0x6a,
	0x1d, 0x7b, 0x54, 0x19, 0xb5, 0x7a, 0xcf, 0xa9, 0x7c, 0x80, 0x0c, 0x66,
	0x51, 0x62, 0x67, 0x46, 0x80, 0xf8, 0xd4, 0x87, 0xf2, 0x88, 0xd4, 0xec,
	0x07, 0xcd, 0x63, 0x41, 0x8f, 0x0e, 0xea, 0x22, 0x48, 0x49, 0x12, 0x67,
	0xd8, 0xbe, 0xe6, 0xe4, 0xfb, 0x6c, 0x81, 0xb8, 0x90, 0x34, 0x53, 0x18,
	0x51, 0x25, 0xdb, 0x10, 0x99, 0x3b, 0xc0, 0xa1, 0x41, 0xc2, 0x3c, 0x53,
	0x21, 0xcf, 0xce, 0x47, 0xcd, 0x6f, 0x0b, 0xb0, 0xb1, 0x2c, 0xeb, 0xf9,
	0x64, 0xf8, 0x5e, 0x5b, 0xba, 0x5c, 0x77, 0xd5, 0xe5, 0x27, 0x80, 0x9a,
	0x06, 0x7e, 0x4a, 0x16, 0xa2, 0xe1, 0x76, 0x11, 0x58, 0xaa, 0xa0, 0xa0,
	0xe4, 0x3e, 0xc4, 0x04, 0x83, 0x02, 0x54, 0x2e, 0xf2, 0x34, 0x87, 0x4d,
	0xa2, 0x3b, 0xdc, 0x6c, 0xdc, 0x60, 0xe3, 0x4b, 0x79, 0x0b, 0x72, 0xc9,
	0xc2, 0xe4, 0x97, 0x84, 0xae, 0x4a, 0xcd, 0xad, 0xda, 0x0d, 0x85, 0xb2,
	0x15, 0x87, 0xf3, 0xfb, 0x59, 0xfe, 0x2d, 0x70, 0x36, 0x61, 0xce, 0x44,
	0xbe, 0xf1, 0x46, 0xd1, 0x35, 0xac, 0x5d, 0x52, 0x4e, 0xbd, 0x4a, 0x34,
	0xc7, 0xa6, 0x92, 0xeb, 0xa3, 0x8c, 0xc3, 0xa3, 0xdd, 0x8e, 0x94, 0xd3,
	0x62, 0xdb, 0xe8, 0x07, 0x1e, 0x4c, 0x7e, 0x59, 0x98, 0x7a, 0x1b, 0x02,
	0x48, 0x4b, 0x17, 0x5e, 0x2a, 0x87, 0x4a, 0x3d, 0x40, 0x20, 0x00, 0x8f,
	0x1a, 0xbb, 0x50, 0x87, 0x1c, 0x77, 0x1c, 0x1e, 0x9e, 0x08, 0x10, 0x07,
	0x57, 0x5d, 0x85, 0x47, 0x65, 0x9d, 0x03, 0x1a, 0x49, 0x7d, 0x78, 0x4c,
	0x96, 0x3a, 0x29, 0xa2, 0xb5, 0x3f, 0xc6, 0x03, 0x27, 0xdf, 0x65, 0x7b,
	0x06, 0x5a, 0x5c, 0x32, 0x23, 0x19, 0xae, 0x52, 0xbf, 0x66, 0x23, 0x6c,
	0x69, 0x0c, 0x0d, 0x4c, 0xf2, 0x7c, 0x23, 0x7d, 0xa5, 0xbb, 0x94, 0xec,
	0xab, 0x02, 0x03, 0x01, 0x00, 0x01, 0xa3, 0x53, 0x30, 0x51, 0x30, 0x1d,
	0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x50, 0xb7, 0x68,
	0x7e, 0x75, 0x60, 0x10, 0x5a, 0xd5, 0x28, 0xb7, 0x1e, 0x46, 0x04, 0x88,
	0x44, 0xe6, 0x9d, 0x55, 0xf1, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23,
	0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0x50, 0xb7, 0x68, 0x7e, 0x75, 0x60,
	0x10, 0x5a, 0xd5, 0x28, 0xb7, 0x1e, 0x46, 0x04, 0x88, 0x44, 0xe6, 0x9d,
	0x55, 0xf1, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff,
	0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x0d, 0x06, 0x09, 0x2a,
	0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00, 0x03, 0x82,
	0x01, 0x01, 0x00, 0xb2, 0xff, 0xb0, 0xe4, 0x40, 0xa5, 0xe4, 0xcd, 0xaa,
	0x96, 0xba, 0xe8, 0x57, 0x4f, 0x35, 0x1a, 0x9e, 0x59, 0xac, 0x7a, 0x14,
	0xff, 0x81, 0xad, 0x42, 0x07, 0xd3, 0x98, 0x89, 0xdb, 0x12, 0x26, 0x1b,
	0xb6, 0x1f, 0xf6, 0x35, 0x41, 0x5f, 0x1f, 0x3b, 0x40, 0x13, 0xf9, 0xb8,
	0xe7, 0x24, 0x71, 0x25, 0x69, 0xff, 0x0a, 0xbd, 0xae, 0xb3, 0xe9, 0xab,
	0xc6, 0x36, 0x91, 0xa6, 0x33, 0xb5, 0x32, 0x60, 0x22, 0xcb, 0x2b, 0x70,
	0xc3, 0xe9, 0xa3, 0xcc, 0xd1, 0x1c, 0x80, 0xb8, 0x0e, 0x06, 0x05, 0xec,
	0xe0, 0x75, 0xc2, 0xc7, 0x70, 0xe9, 0x6e, 0x75, 0x60, 0x74, 0x0b, 0x01,
	0x6a, 0xe1, 0xda, 0xed, 0x97, 0x06, 0xcf, 0x82, 0x11, 0x00, 0x50, 0x10,
	0xe9, 0xcd, 0x96, 0x90, 0x05, 0x75, 0x6c, 0x97, 0x46, 0xd6, 0x03, 0xd3,
	0x49, 0x2a, 0x52, 0x56, 0x28, 0x1c, 0x2a, 0xdf, 0xd7, 0x96, 0xaf, 0x74,
	0x2c, 0xba, 0xcd, 0x01, 0xd5, 0xf9, 0x84, 0x42, 0xf5, 0x94, 0xc6, 0x39,
	0x31, 0xe2, 0xd2, 0xf9, 0xd3, 0xfe, 0xf7, 0x34, 0x47, 0x9f, 0x41, 0x9c,
	0xd8, 0x81, 0x18, 0xfd, 0x41, 0xb3, 0xd0, 0x51, 0x0b, 0xd9, 0x1d, 0xb1,
	0x27, 0xcb, 0x5e, 0x32, 0x47, 0x70, 0x3f, 0x6c, 0xdd, 0xd8, 0xfe, 0x56,
	0x09, 0x9c, 0xdb, 0x37, 0x41, 0x84, 0xee, 0x46, 0x56, 0xb6, 0x2e, 0x10,
	0x13, 0xe2, 0x3c, 0xb0, 0x0e, 0x5c, 0x49, 0x29, 0x15, 0x83, 0xc1, 0xa4,
	0xb4, 0x7e, 0x72, 0x0c, 0x56, 0x11, 0x87, 0x02, 0xe6, 0x9c, 0x59, 0xc0,
	0x85, 0x5c, 0x6a, 0x41, 0x5d, 0xd7, 0x4e, 0x86, 0xf6, 0x20, 0x16, 0x54,
	0xc2, 0x02, 0x5e, 0x00, 0x05, 0x8f, 0x4e, 0x8c, 0x8d, 0xb4, 0x70, 0xd5,
	0x11, 0x53, 0x22, 0xf9, 0x77, 0x40, 0xf7, 0xd6, 0x4f, 0xa6, 0x4f, 0xb9,
	0x1d, 0x17, 0xd8, 0x08, 0x2a, 0x8e, 0xf0,
};

static const uint8_t drbg_seed[32] = "postern test_x509 fixed seed...";

/* ---- a tiny DER builder for hand-made certificates ---- */

struct tb {
	uint8_t b[80000];
	size_t n;
};

static struct tb *
tb_new(void)
{
	struct tb *t = calloc(1, sizeof(*t));

	if (t == NULL)
		abort();
	return t;
}

static void
raw(struct tb *t, const void *p, size_t len)
{
	if (len > sizeof(t->b) - t->n)
		abort();
	if (len > 0)
		memcpy(t->b + t->n, p, len);
	t->n += len;
}

static size_t
head(uint8_t h[6], uint8_t tag, size_t len)
{
	size_t n = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else if (len < 0x100) {
		h[n++] = 0x81;
		h[n++] = (uint8_t)len;
	} else if (len < 0x10000) {
		h[n++] = 0x82;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	} else {
		h[n++] = 0x83;
		h[n++] = (uint8_t)(len >> 16);
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	}
	return n;
}

static void
tlv(struct tb *t, uint8_t tag, const void *p, size_t len)
{
	uint8_t h[6];

	raw(t, h, head(h, tag, len));
	raw(t, p, len);
}

/* Wrap everything in t into one element. */
static void
wrap(struct tb *t, uint8_t tag)
{
	uint8_t h[6];
	size_t hl = head(h, tag, t->n);

	if (hl > sizeof(t->b) - t->n)
		abort();
	memmove(t->b + hl, t->b, t->n);
	memcpy(t->b, h, hl);
	t->n += hl;
}

static void
put_tb(struct tb *t, uint8_t tag, const struct tb *in)
{
	tlv(t, tag, in->b, in->n);
}

static const uint8_t oid_cn[] = { 0x06, 0x03, 0x55, 0x04, 0x03 };
static const uint8_t oid_o[] = { 0x06, 0x03, 0x55, 0x04, 0x0a };
static const uint8_t oid_san[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 };
static const uint8_t algid[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
};

/* One RDN { type, value } appended to a Name's contents. */
static void
rdn(struct tb *name, const uint8_t *oid, size_t oid_len, uint8_t tag, const char *v)
{
	struct tb *t = tb_new();

	raw(t, oid, oid_len);
	tlv(t, tag, v, strlen(v));
	wrap(t, 0x30);
	wrap(t, 0x31);
	raw(name, t->b, t->n);
	free(t);
}

/* A certificate around the given serial TLV, subject Name contents and
 * extension list contents (NULL: no extensions field).  Not signed. */
static void
make_cert(struct tb *out, const void *serial, size_t serial_len,
    const struct tb *subject, const struct tb *exts)
{
	static const uint8_t v3[] = { 0xa0, 0x03, 0x02, 0x01, 0x02 };
	static const uint8_t issuer[] = {
		0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03,
		0x0c, 0x03, 'i', 's', 's',
	};
	static const uint8_t validity[] = {
		0x30, 0x1e, 0x17, 0x0d, '2', '5', '0', '1', '0', '1', '0', '0',
		'0', '0', '0', '0', 'Z', 0x17, 0x0d, '2', '6', '0', '1', '0', '1',
		'0', '0', '0', '0', '0', '0', 'Z',
	};
	static const uint8_t spki[] = {
		0x30, 0x10, 0x30, 0x0b, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
		0x02, 0x01, 0x05, 0x00, 0x03, 0x01, 0x00,
	};
	struct tb *tbs = tb_new();

	out->n = 0;
	raw(tbs, v3, sizeof(v3));
	raw(tbs, serial, serial_len);
	raw(tbs, algid, sizeof(algid));
	raw(tbs, issuer, sizeof(issuer));
	raw(tbs, validity, sizeof(validity));
	put_tb(tbs, 0x30, subject);
	raw(tbs, spki, sizeof(spki));
	if (exts != NULL) {
		struct tb *x = tb_new();

		put_tb(x, 0x30, exts);
		put_tb(tbs, 0xa3, x);
		free(x);
	}
	put_tb(out, 0x30, tbs);
	raw(out, algid, sizeof(algid));
	tlv(out, 0x03, "\0\1", 2);
	wrap(out, 0x30);
	free(tbs);
}

/* Append Extension { subjectAltName, [critical,] OCTET STRING { gns } }. */
static void
ext_san(struct tb *exts, const struct tb *gns, int critical)
{
	struct tb *e = tb_new(), *v = tb_new();

	put_tb(v, 0x30, gns);
	raw(e, oid_san, sizeof(oid_san));
	if (critical)
		raw(e, "\x01\x01\xff", 3);
	put_tb(e, 0x04, v);
	put_tb(exts, 0x30, e);
	free(e);
	free(v);
}

static void
gn_dns(struct tb *gns, const char *name)
{
	tlv(gns, 0x82, name, strlen(name));
}

static int
names_are(const struct x509_names *xn, const char *const *want, unsigned n)
{
	unsigned i;

	if (xn->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(xn->name[i], want[i]) != 0)
			return 0;
	return 1;
}

/* Every proper prefix of a certificate is malformed, and so is the
 * certificate with a byte appended; each try on an exact-size copy. */
static int
all_truncations_fail(const uint8_t *der, size_t len)
{
	struct x509_names xn;
	uint8_t *copy;
	size_t n;
	int ok = 1;

	for (n = 0; n < len && ok; n++) {
		copy = malloc(n + 1);
		memcpy(copy, der, n);
		xn.n = 99;
		ok = x509_cert_names(copy, n, &xn) == -1 && xn.n == 0;
		free(copy);
	}
	copy = malloc(len + 1);
	memcpy(copy, der, len);
	copy[len] = 0;
	ok = ok && x509_cert_names(copy, len + 1, &xn) == -1 && x509_cert_names(copy, len, &xn) == 0;
	free(copy);
	return ok;
}

/* Flip every bit of every byte: no crash, and whatever parses still lists
 * only valid names. */
static int
bit_flips_safe(const uint8_t *der, size_t len)
{
	struct x509_names xn;
	uint8_t *copy = malloc(len);
	size_t i, k;
	unsigned b, j;
	int ok = 1;

	for (i = 0; i < len; i++) {
		for (b = 0; b < 8; b++) {
			memcpy(copy, der, len);
			copy[i] ^= (uint8_t)(1u << b);
			if (x509_cert_names(copy, len, &xn) < 0) {
				ok = ok && xn.n == 0;
				continue;
			}
			for (j = 0; j < xn.n; j++) {
				k = strlen(xn.name[j]);
				ok = ok && k <= X509_NAME_MAX &&
				    (x509_host_valid((const uint8_t *)xn.name[j], k) ||
				    (k > 2 && xn.name[j][0] == '*' &&
				    x509_host_valid((const uint8_t *)xn.name[j] + 2, k - 2)));
			}
		}
	}
	free(copy);
	return ok;
}

/* ---- the self-signed certificate ---- */

/* Offsets of the TBS and of the signature inside a certificate we made. */
static int
split_cert(const uint8_t *der, size_t len, const uint8_t **tbs, size_t *tbs_len,
    const uint8_t **sig, size_t *sig_len)
{
	size_t o = 4, tl;

	/* 30 82 LL LL | 30 82 LL LL tbs | algid | 03 LL 00 sig */
	if (len < 8 || der[0] != 0x30 || der[1] != 0x82 || der[4] != 0x30 || der[5] != 0x82)
		return -1;
	tl = 4 + ((size_t)der[6] << 8 | der[7]);
	*tbs = der + o;
	*tbs_len = tl;
	o += tl;
	if (o + sizeof(algid) + 3 > len || memcmp(der + o, algid, sizeof(algid)) != 0)
		return -1;
	o += sizeof(algid);
	if (der[o] != 0x03 || der[o + 2] != 0x00 || o + 2 + der[o + 1] != len)
		return -1;
	*sig = der + o + 3;
	*sig_len = der[o + 1] - 1u;
	return 0;
}

static void
test_signature(const uint8_t *cert, size_t len, uint64_t nb, uint64_t na)
{
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	br_sha256_context sc;
	const uint8_t *tbs, *sig;
	size_t tbs_len, sig_len;
	uint8_t hash[32], bad[32];

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, cert, len);
	pk = br_x509_decoder_get_pkey(&dc);
	CHECK(pk != NULL && pk->key_type == BR_KEYTYPE_EC &&
	    pk->key.ec.curve == BR_EC_secp256r1 && pk->key.ec.qlen == 65,
	    "BearSSL decodes the certificate: P-256 key");
	CHECK(br_x509_decoder_get_signer_key_type(&dc) == BR_KEYTYPE_EC &&
	    br_x509_decoder_get_signer_hash_id(&dc) == br_sha256_ID,
	    "signed ecdsa-with-SHA256");
	CHECK(!br_x509_decoder_isCA(&dc), "not a CA");
	CHECK(dc.notbefore_days == nb / 86400 + 719528 && dc.notbefore_seconds == nb % 86400 &&
	    dc.notafter_days == na / 86400 + 719528 && dc.notafter_seconds == na % 86400,
	    "validity as BearSSL reads it");
	if (pk == NULL || split_cert(cert, len, &tbs, &tbs_len, &sig, &sig_len) < 0) {
		CHECK(0, "certificate layout");
		return;
	}
	br_sha256_init(&sc);
	br_sha256_update(&sc, tbs, tbs_len);
	br_sha256_out(&sc, hash);
	CHECK(br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hash, sizeof(hash), &pk->key.ec,
	    sig, sig_len) == 1, "signature verifies over SHA-256(TBS)");
	memcpy(bad, hash, sizeof(bad));
	bad[5] ^= 1;
	CHECK(br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, bad, sizeof(bad), &pk->key.ec,
	    sig, sig_len) == 0, "signature fails for another TBS");
}

/* The private key decodes, and its public key is the certificate's. */
static void
test_key(const uint8_t *cert, size_t cert_len, const uint8_t *key, size_t key_len)
{
	br_x509_decoder_context dc;
	br_skey_decoder_context kc;
	const br_x509_pkey *pk;
	const br_ec_private_key *sk;
	br_ec_public_key pub;
	uint8_t q[BR_EC_KBUF_PUB_MAX_SIZE];

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, cert, cert_len);
	pk = br_x509_decoder_get_pkey(&dc);
	br_skey_decoder_init(&kc);
	br_skey_decoder_push(&kc, key, key_len);
	sk = br_skey_decoder_get_ec(&kc);
	CHECK(br_skey_decoder_last_error(&kc) == 0 && sk != NULL &&
	    sk->curve == BR_EC_secp256r1 && sk->xlen == 32, "key is a P-256 EC PRIVATE KEY");
	if (sk == NULL || pk == NULL)
		return;
	CHECK(br_ec_compute_pub(&br_ec_p256_m31, &pub, q, sk) == 65 &&
	    memcmp(q, pk->key.ec.q, 65) == 0, "key matches the certificate's public key");
	CHECK(key[0] == 0x30 && key[2] == 0x02 && key[3] == 0x01 && key[4] == 0x01,
	    "SEC1 ECPrivateKey version 1");
}

static void
make_selfsigned(const char *seed_tag, uint64_t nb, uint64_t na, uint8_t *cert,
    size_t *cert_len, uint8_t *key, size_t *key_len, int *rc)
{
	br_hmac_drbg_context rng;

	br_hmac_drbg_init(&rng, &br_sha256_vtable, drbg_seed, sizeof(drbg_seed));
	br_hmac_drbg_update(&rng, seed_tag, strlen(seed_tag));
	*cert_len = 2048;
	*key_len = 128;
	*rc = x509_selfsigned_p256(&rng.vtable, "mail.example.org", nb, na,
	    cert, cert_len, key, key_len);
}

static void
test_selfsigned(void)
{
	static const char *const want[] = { "mail.example.org" };
	uint8_t cert[2048], cert2[2048], key[128], key2[128], *serial;
	size_t cl, cl2, kl, kl2;
	uint64_t nb = 1735689600, na = nb + 90 * 86400;	/* 2025-01-01 + 90 days */
	struct x509_names xn;
	int rc, rc2;

	make_selfsigned("a", nb, na, cert, &cl, key, &kl, &rc);
	CHECK(rc == 0 && cl > 300 && cl < 600 && kl == 121, "self-signed certificate made");
	CHECK(x509_cert_names(cert, cl, &xn) == 0 && names_are(&xn, want, 1),
	    "its names: mail.example.org");
	serial = cert + 15;	/* 30 82 LL LL 30 82 LL LL a0 03 02 01 02 02 10 */
	CHECK(cert[13] == 0x02 && cert[14] == 16 && (serial[0] & 0xc0) == 0x40,
	    "serial: 16 bytes, positive, minimal");
	test_signature(cert, cl, nb, na);
	test_key(cert, cl, key, kl);
	CHECK(all_truncations_fail(cert, cl), "every truncation of it is malformed");
	CHECK(bit_flips_safe(cert, cl), "bit flips: no crash, only valid names");

	make_selfsigned("a", nb, na, cert2, &cl2, key2, &kl2, &rc2);
	CHECK(rc2 == 0 && cl2 == cl && memcmp(cert, cert2, cl) == 0 && kl2 == kl &&
	    memcmp(key, key2, kl) == 0, "same seed, same certificate and key");
	make_selfsigned("b", nb, na, cert2, &cl2, key2, &kl2, &rc2);
	CHECK(rc2 == 0 && memcmp(cert + 15, cert2 + 15, 16) != 0 &&
	    memcmp(key + 7, key2 + 7, 32) != 0, "another seed, another serial and key");
}

static int
has_time(const uint8_t *der, size_t len, uint8_t tag, const char *txt)
{
	uint8_t pat[20];
	size_t n = strlen(txt);

	pat[0] = tag;
	pat[1] = (uint8_t)n;
	memcpy(pat + 2, txt, n);
	return memmem(der, len, pat, n + 2) != NULL;
}

static void
test_selfsigned_limits(void)
{
	br_hmac_drbg_context rng;
	uint8_t cert[2048], key[128];
	size_t cl, kl;
	uint64_t nb = 1709208000;		/* 2024-02-29T12:00:00Z */
	uint64_t na = 2524607999;		/* 2049-12-31T23:59:59Z */
	char cn[X509_NAME_MAX + 2];
	struct x509_names xn;
	int rc;

	make_selfsigned("t", nb, na, cert, &cl, key, &kl, &rc);
	CHECK(rc == 0 && has_time(cert, cl, 0x17, "240229120000Z") &&
	    has_time(cert, cl, 0x17, "491231235959Z"), "UTCTime through 2049");
	test_signature(cert, cl, nb, na);
	make_selfsigned("t", na + 1, 253402300799ULL, cert, &cl, key, &kl, &rc);
	CHECK(rc == 0 && has_time(cert, cl, 0x18, "20500101000000Z") &&
	    has_time(cert, cl, 0x18, "99991231235959Z"), "GeneralizedTime from 2050");
	test_signature(cert, cl, na + 1, 253402300799ULL);
	make_selfsigned("t", nb, 253402300800ULL, cert, &cl, key, &kl, &rc);
	CHECK(rc == -1, "after 9999: refused");
	make_selfsigned("t", na, nb, cert, &cl, key, &kl, &rc);
	CHECK(rc == -1, "not_after before not_before: refused");

	br_hmac_drbg_init(&rng, &br_sha256_vtable, drbg_seed, sizeof(drbg_seed));
	cl = 300;
	kl = 128;
	CHECK(x509_selfsigned_p256(&rng.vtable, "mail.example.org", nb, na, cert, &cl,
	    key, &kl) == -1 && cl == 300 && kl == 128, "small certificate buffer: -1");
	cl = sizeof(cert);
	kl = 120;
	CHECK(x509_selfsigned_p256(&rng.vtable, "mail.example.org", nb, na, cert, &cl,
	    key, &kl) == -1 && kl == 120, "small key buffer: -1");
	cl = sizeof(cert);
	kl = sizeof(key);
	CHECK(x509_selfsigned_p256(&rng.vtable, "*.example.org", nb, na, cert, &cl, key, &kl) == -1 &&
	    x509_selfsigned_p256(&rng.vtable, "bad_name.org", nb, na, cert, &cl, key, &kl) == -1 &&
	    x509_selfsigned_p256(&rng.vtable, "", nb, na, cert, &cl, key, &kl) == -1,
	    "invalid cn: -1");
	/* the longest name: 253 bytes, four 63-byte labels */
	memset(cn, 'a', X509_NAME_MAX);
	cn[63] = cn[127] = cn[191] = '.';
	cn[X509_NAME_MAX] = '\0';
	CHECK(x509_selfsigned_p256(&rng.vtable, cn, nb, na, cert, &cl, key, &kl) == 0 &&
	    x509_cert_names(cert, cl, &xn) == 0 && xn.n == 1 && strcmp(xn.name[0], cn) == 0,
	    "253-byte cn: made and read back");
	test_signature(cert, cl, nb, na);
}

/* x509_write_pem: RFC 7468 text that BearSSL's PEM decoder reads back. */
struct pem_out {
	uint8_t buf[2048];
	size_t n;
};

static void
pem_dest(void *ctx, const void *src, size_t len)
{
	struct pem_out *po = ctx;

	if (len <= sizeof(po->buf) - po->n) {
		memcpy(po->buf + po->n, src, len);
		po->n += len;
	}
}

static void
test_pem(void)
{
	static const uint8_t der[100] = { 0x30, 0x62, 1, 2, 3 };
	br_pem_decoder_context pc;
	struct pem_out po = { .n = 0 };
	char txt[400], *line, *nl;
	FILE *f = tmpfile();
	size_t n, off = 0, got;
	int events = 0, ev, lines_ok = 1;

	CHECK(f != NULL && x509_write_pem(fileno(f), "CERTIFICATE", der, sizeof(der)) == 0,
	    "PEM written");
	rewind(f);
	n = fread(txt, 1, sizeof(txt) - 1, f);
	txt[n] = '\0';
	fclose(f);
	CHECK(strncmp(txt, "-----BEGIN CERTIFICATE-----\n", 28) == 0 && n > 26 &&
	    strcmp(txt + n - 26, "-----END CERTIFICATE-----\n") == 0, "PEM header and footer");
	for (line = txt; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		lines_ok = lines_ok && nl - line <= 64;
	CHECK(lines_ok && *line == '\0', "PEM lines of at most 64 characters");
	br_pem_decoder_init(&pc);
	while (off < n) {
		got = br_pem_decoder_push(&pc, txt + off, n - off);
		off += got;
		ev = br_pem_decoder_event(&pc);
		if (ev == BR_PEM_BEGIN_OBJ)
			br_pem_decoder_setdest(&pc, pem_dest, &po);
		if (ev != 0)
			events = events * 10 + ev;
	}
	CHECK(events == 12 && strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") == 0 &&
	    po.n == sizeof(der) && memcmp(po.buf, der, sizeof(der)) == 0, "PEM decodes back");
	CHECK(x509_write_pem(-1, "CERTIFICATE", der, sizeof(der)) == -1, "PEM to a bad fd: -1");
}

/* ---- real certificates from openssl ---- */

static void
test_openssl(void)
{
	static const char *const san[] = { "a.example.org", "*.b.example.org" };
	static const char *const cn[] = { "mail.cn-only.example" };
	struct x509_names xn;

	CHECK(x509_cert_names(cert_openssl_san, sizeof(cert_openssl_san), &xn) == 0 &&
	    names_are(&xn, san, 2), "openssl SAN certificate: DNS names, no IP, no CN");
	CHECK(all_truncations_fail(cert_openssl_san, sizeof(cert_openssl_san)),
	    "openssl SAN certificate: every truncation malformed");
	CHECK(bit_flips_safe(cert_openssl_san, sizeof(cert_openssl_san)),
	    "openssl SAN certificate: bit flips safe");
	CHECK(x509_cert_names(cert_openssl_cn, sizeof(cert_openssl_cn), &xn) == 0 &&
	    names_are(&xn, cn, 1), "openssl CN-only certificate: the CN, lower-cased");
	CHECK(all_truncations_fail(cert_openssl_cn, sizeof(cert_openssl_cn)),
	    "openssl CN-only certificate: every truncation malformed");
	CHECK(x509_name_match(xn.name[0], "MAIL.CN-ONLY.EXAMPLE"), "and it matches its host");
}

/* ---- hand-made certificates: name rules and DER strictness ---- */

static const uint8_t serial_ok[] = { 0x02, 0x01, 0x01 };

/* Names of a certificate with subject CN=cn and a SAN of these dNSNames
 * (NULL-terminated; san == NULL: no extensions). */
static int
names_of(const char *cn, const char *const *san, struct x509_names *xn)
{
	struct tb *subj = tb_new(), *gns = tb_new(), *exts = tb_new(), *cert = tb_new();
	int rc;

	rdn(subj, oid_cn, sizeof(oid_cn), 0x0c, cn);
	for (; san != NULL && *san != NULL; san++)
		gn_dns(gns, *san);
	if (san != NULL)
		ext_san(exts, gns, 0);
	make_cert(cert, serial_ok, sizeof(serial_ok), subj, san != NULL ? exts : NULL);
	rc = x509_cert_names(cert->b, cert->n, xn);
	free(subj);
	free(gns);
	free(exts);
	free(cert);
	return rc;
}

static void
test_name_rules(void)
{
	static const char *const upper[] = { "Mail.Example.ORG", "MAIL.example.org", NULL };
	static const char *const bad[] = { "bad_name.org", "x.org.", "", "*", "f*.x.org",
		"*.*.x.org", "a..b", "\xc3\xa9.org", NULL };
	static const char *const mixed[] = { "bad_name.org", "ok.org", NULL };
	static const char *const empty[] = { NULL };
	static const char *const want_mail[] = { "mail.example.org" };
	static const char *const want_ok[] = { "ok.org" };
	static const char *const want_cn[] = { "cn.example" };
	static const char *const want_wc[] = { "*.wild.example" };
	char many[40][16], long_name[260];
	const char *list[42];
	struct x509_names xn;
	unsigned i;

	CHECK(names_of("cn.example", upper, &xn) == 0 && names_are(&xn, want_mail, 1),
	    "SAN names lower-cased, duplicates once, CN ignored");
	CHECK(names_of("cn.example", bad, &xn) == 0 && xn.n == 0,
	    "invalid dNSNames skipped, and the CN is not used instead");
	CHECK(names_of("cn.example", mixed, &xn) == 0 && names_are(&xn, want_ok, 1),
	    "valid names kept next to invalid ones");
	CHECK(names_of("cn.example", NULL, &xn) == 0 && names_are(&xn, want_cn, 1),
	    "no extensions: the CN");
	CHECK(names_of("*.Wild.example", NULL, &xn) == 0 && names_are(&xn, want_wc, 1),
	    "a wildcard CN is kept");
	CHECK(names_of("Mail Server", NULL, &xn) == 0 && xn.n == 0, "a CN that is no DNS name: none");
	CHECK(names_of("cn.example", empty, &xn) == -1, "empty GeneralNames: malformed");
	for (i = 0; i < 40; i++) {
		snprintf(many[i], sizeof(many[i]), "h%u.example", i);
		list[i] = many[i];
	}
	memset(long_name, 'a', 254);
	long_name[63] = long_name[127] = long_name[191] = '.';
	long_name[254] = '\0';
	list[0] = long_name;		/* 254 bytes: skipped */
	list[40] = NULL;
	CHECK(names_of("cn.example", list, &xn) == 0 && xn.n == X509_MAX_NAMES &&
	    strcmp(xn.name[0], "h1.example") == 0 &&
	    strcmp(xn.name[X509_MAX_NAMES - 1], "h32.example") == 0,
	    "too long skipped; at most X509_MAX_NAMES");
}

/* The last CN counts, in a Name of several RDNs and string types. */
static void
test_subject_cn(void)
{
	static const char *const want[] = { "second.example" };
	struct tb *subj = tb_new(), *cert = tb_new();
	struct x509_names xn;

	rdn(subj, oid_cn, sizeof(oid_cn), 0x13, "first.example");
	rdn(subj, oid_o, sizeof(oid_o), 0x0c, "org.example");
	rdn(subj, oid_cn, sizeof(oid_cn), 0x16, "second.example");
	make_cert(cert, serial_ok, sizeof(serial_ok), subj, NULL);
	CHECK(x509_cert_names(cert->b, cert->n, &xn) == 0 && names_are(&xn, want, 1),
	    "the subject's last CN (IA5String)");
	subj->n = 0;
	rdn(subj, oid_cn, sizeof(oid_cn), 0x13, "first.example");
	rdn(subj, oid_cn, sizeof(oid_cn), 0x1e, "\0s\0.\0e");	/* BMPString */
	make_cert(cert, serial_ok, sizeof(serial_ok), subj, NULL);
	CHECK(x509_cert_names(cert->b, cert->n, &xn) == 0 && xn.n == 0,
	    "a last CN in BMPString: none (no earlier CN)");
	free(subj);
	free(cert);
}

/* One certificate with a SAN extension built from raw extension bytes. */
static int
parse_with_ext(const void *ext, size_t len, struct x509_names *xn)
{
	struct tb *subj = tb_new(), *exts = tb_new(), *cert = tb_new();
	int rc;

	rdn(subj, oid_cn, sizeof(oid_cn), 0x0c, "cn.example");
	raw(exts, ext, len);
	make_cert(cert, serial_ok, sizeof(serial_ok), subj, exts);
	rc = x509_cert_names(cert->b, cert->n, xn);
	free(subj);
	free(exts);
	free(cert);
	return rc;
}

static int
parse_with_serial(const void *serial, size_t len)
{
	struct tb *subj = tb_new(), *cert = tb_new();
	struct x509_names xn;
	int rc;

	rdn(subj, oid_cn, sizeof(oid_cn), 0x0c, "cn.example");
	make_cert(cert, serial, len, subj, NULL);
	rc = x509_cert_names(cert->b, cert->n, &xn);
	free(subj);
	free(cert);
	return rc;
}

static void
test_der_strictness(void)
{
	/* Extension { SAN, OCTET STRING { SEQUENCE { [2] "x.org" } } } */
	static const uint8_t san_ok[] = { 0x30, 0x10, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04,
		0x09, 0x30, 0x07, 0x82, 0x05, 'x', '.', 'o', 'r', 'g', };
	static const uint8_t san_trailing[] = { 0x30, 0x11, 0x06, 0x03, 0x55, 0x1d, 0x11,
		0x04, 0x0a, 0x30, 0x07, 0x82, 0x05, 'x', '.', 'o', 'r', 'g', 0x00, };
	static const uint8_t san_universal[] = { 0x30, 0x10, 0x06, 0x03, 0x55, 0x1d, 0x11,
		0x04, 0x09, 0x30, 0x07, 0x16, 0x05, 'x', '.', 'o', 'r', 'g', };
	static const uint8_t san_bad_bool[] = { 0x30, 0x13, 0x06, 0x03, 0x55, 0x1d, 0x11,
		0x01, 0x01, 0x01, 0x04, 0x09, 0x30, 0x07, 0x82, 0x05, 'x', '.', 'o', 'r', 'g', };
	static const uint8_t san_crit[] = { 0x30, 0x13, 0x06, 0x03, 0x55, 0x1d, 0x11,
		0x01, 0x01, 0xff, 0x04, 0x09, 0x30, 0x07, 0x82, 0x05, 'x', '.', 'o', 'r', 'g', };
	static const uint8_t long_ok[] = { 0x02, 0x81, 0x80 };
	uint8_t twice[sizeof(san_ok) * 2], serial[0x83];
	struct x509_names xn;

	CHECK(parse_with_ext(san_ok, sizeof(san_ok), &xn) == 0 && xn.n == 1 &&
	    strcmp(xn.name[0], "x.org") == 0, "hand-made SAN parses");
	CHECK(parse_with_ext(san_crit, sizeof(san_crit), &xn) == 0 && xn.n == 1,
	    "critical TRUE accepted");
	CHECK(parse_with_ext(san_bad_bool, sizeof(san_bad_bool), &xn) == -1,
	    "BOOLEAN other than 00/ff: malformed");
	CHECK(parse_with_ext(san_trailing, sizeof(san_trailing), &xn) == -1,
	    "bytes after GeneralNames: malformed");
	CHECK(parse_with_ext(san_universal, sizeof(san_universal), &xn) == -1,
	    "a GeneralName with a universal tag: malformed");
	memcpy(twice, san_ok, sizeof(san_ok));
	memcpy(twice + sizeof(san_ok), san_ok, sizeof(san_ok));
	CHECK(parse_with_ext(twice, sizeof(twice), &xn) == -1, "two SAN extensions: malformed");
	CHECK(parse_with_ext(NULL, 0, &xn) == -1, "empty Extensions: malformed");

	CHECK(parse_with_serial(serial_ok, sizeof(serial_ok)) == 0, "short length");
	memset(serial, 0x11, sizeof(serial));
	memcpy(serial, long_ok, sizeof(long_ok));
	CHECK(parse_with_serial(serial, sizeof(serial)) == 0, "long form 0x81 0x80");
	CHECK(parse_with_serial("\x02\x81\x01\x01", 4) == -1, "long form for 1 byte: rejected");
	CHECK(parse_with_serial("\x02\x82\x00\x01\x01", 5) == -1, "leading zero length byte: rejected");
	CHECK(parse_with_serial("\x02\x80\x01\x00\x00", 5) == -1, "indefinite length: rejected");
	CHECK(parse_with_serial("\x02\x85\x01\x00\x00\x00\x00", 7) == -1, "5 length bytes: rejected");
	CHECK(parse_with_serial("\x1f\x02\x01\x01", 4) == -1, "high tag number: rejected");
	CHECK(parse_with_serial("\x02\x00", 2) == -1, "empty serial: rejected");
	CHECK(parse_with_serial("\x04\x01\x01", 3) == -1, "serial not an INTEGER: rejected");
	CHECK(parse_with_serial("\x02\x01\x01\x02\x01\x01", 6) == -1, "extra field: rejected");
}

/* A 70000-byte extension: three length bytes on the way down. */
static void
test_big_certificate(void)
{
	static const char *const want[] = { "x.org" };
	static const uint8_t san_ok[] = { 0x30, 0x10, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04,
		0x09, 0x30, 0x07, 0x82, 0x05, 'x', '.', 'o', 'r', 'g', };
	struct tb *subj = tb_new(), *exts = tb_new(), *e = tb_new(), *cert = tb_new();
	static uint8_t big[70000];
	struct x509_names xn;

	rdn(subj, oid_cn, sizeof(oid_cn), 0x0c, "cn.example");
	raw(e, "\x06\x02\x2a\x03", 4);
	tlv(e, 0x04, big, sizeof(big));
	put_tb(exts, 0x30, e);
	raw(exts, san_ok, sizeof(san_ok));
	make_cert(cert, serial_ok, sizeof(serial_ok), subj, exts);
	CHECK(cert->b[1] == 0x83 && x509_cert_names(cert->b, cert->n, &xn) == 0 &&
	    names_are(&xn, want, 1), "70 kB certificate: 3-byte lengths");
	free(subj);
	free(exts);
	free(e);
	free(cert);
}

/* ---- host names and matching ---- */

struct host_case {
	const char *host;
	size_t len;		/* 0: strlen */
	int valid;
};

static void
test_host_valid(void)
{
	static char l63[80], l64[80], n253[260], n254[260];
	const struct host_case cases[] = {
		{ "a", 0, 1 }, { "example.org", 0, 1 }, { "A-1.b2.C", 0, 1 },
		{ "xn--bcher-kva.example", 0, 1 }, { "1.2.3.4", 0, 1 }, { "a--b.c", 0, 1 },
		{ "", 0, 0 }, { ".", 0, 0 }, { "a.", 0, 0 }, { ".a", 0, 0 }, { "a..b", 0, 0 },
		{ "-a.b", 0, 0 }, { "a-.b", 0, 0 }, { "a.-b", 0, 0 }, { "a.b-", 0, 0 },
		{ "a_b.c", 0, 0 }, { "a b", 0, 0 }, { "a\0b", 3, 0 }, { "*.a.b", 0, 0 },
		{ "\xc3\xa9.org", 0, 0 }, { "a/b", 0, 0 }, { "a:25", 0, 0 },
		{ l63, 0, 1 }, { l64, 0, 0 }, { n253, 0, 1 }, { n254, 0, 0 },
	};
	size_t i, len;
	int ok = 1;

	memset(l63, 'x', 63);
	memcpy(l63 + 63, ".org", 5);
	memset(l64, 'x', 64);
	memcpy(l64 + 64, ".org", 5);
	memset(n253, 'a', 253);
	n253[63] = n253[127] = n253[191] = '.';
	memcpy(n254, n253, 253);
	n254[252] = '.';
	n254[253] = 'b';
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].host);
		if (!!x509_host_valid((const uint8_t *)cases[i].host, len) != cases[i].valid) {
			printf("# host_valid(\"%s\") != %d\n", cases[i].host, cases[i].valid);
			ok = 0;
		}
	}
	CHECK(ok, "x509_host_valid table");
	CHECK(x509_host_valid((const uint8_t *)"example.org", 7) == 1 &&
	    x509_host_valid((const uint8_t *)"example.org", 8) == 0, "length, not NUL, ends the host");
}

struct match_case {
	const char *pattern, *host;
	int match;
};

static void
test_name_match(void)
{
	static const struct match_case cases[] = {
		{ "mail.example.org", "mail.example.org", 1 },
		{ "mail.example.org", "MAIL.Example.ORG", 1 },
		{ "MAIL.example.org", "mail.example.org", 1 },
		{ "a", "a", 1 },
		{ "mail.example.org", "mail.example.org.", 0 },
		{ "mail.example.org", "mail.example.or", 0 },
		{ "mail.example.org", "xmail.example.org", 0 },
		{ "mail.example.org", "", 0 },
		{ "*.example.org", "a.example.org", 1 },
		{ "*.example.org", "A.EXAMPLE.org", 1 },
		{ "*.Example.org", "a.example.ORG", 1 },
		{ "*.xn--80ak6aa92e.com", "xn--d1a.xn--80ak6aa92e.com", 1 },
		{ "*.example.org", "example.org", 0 },
		{ "*.example.org", "a.b.example.org", 0 },
		{ "*.example.org", ".example.org", 0 },
		{ "*.example.org", "aexample.org", 0 },
		{ "*.example.org", "a.example.org.evil", 0 },
		{ "*.example.org", "a.example.org.", 0 },
		{ "*.example.org", "*.example.org", 0 },
		{ "*.example.org", "a.xexample.org", 0 },
		{ "*.org", "example.org", 0 },
		{ "*", "example", 0 },
		{ "*.", "a.", 0 },
		{ "f*.example.org", "foo.example.org", 0 },
		{ "*o.example.org", "foo.example.org", 0 },
		{ "f*o.example.org", "foo.example.org", 0 },
		{ "a.*.example.org", "a.b.example.org", 0 },
		{ "*.*.example.org", "a.b.example.org", 0 },
		{ "**.example.org", "a.example.org", 0 },
		{ "*.example.org.", "a.example.org", 0 },
		{ "", "", 0 },
		{ "", "a", 0 },
		{ "bad_name.org", "bad_name.org", 0 },
	};
	size_t i;
	int ok = 1;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!!x509_name_match(cases[i].pattern, cases[i].host) != cases[i].match) {
			printf("# name_match(\"%s\", \"%s\") != %d\n", cases[i].pattern,
			    cases[i].host, cases[i].match);
			ok = 0;
		}
	}
	CHECK(ok, "x509_name_match table (RFC 6125 section 6.4.3)");
}

int
main(void)
{
	test_selfsigned();
	test_selfsigned_limits();
	test_pem();
	test_openssl();
	test_name_rules();
	test_subject_cn();
	test_der_strictness();
	test_big_certificate();
	test_host_valid();
	test_name_match();
	return tap_done();
}
