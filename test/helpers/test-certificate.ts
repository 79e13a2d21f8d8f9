/**
 * A self-signed certificate for 127.0.0.1 and localhost (P-256, valid for 100 years), made once
 * with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
 * -subj "/CN=hookrelay test receiver" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost"`, for
 * receivers that speak TLS in tests. It protects nothing.
 */
export const TEST_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBuDCCAV2gAwIBAgIUJW3MPaMHwTOd7jWV7glK9zhPRA0wCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXaG9va3JlbGF5IHRlc3QgcmVjZWl2ZXIwIBcNMjYxMjA0MDgz
MTU1WhgPMjEyNjExMTAwODMxNTVaMCIxIDAeBgNVBAMMF2hvb2tyZWxheSB0ZXN0
IHJlY2VpdmVyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7wJVHeHkAHfneZps
9BCXYAhbhbx8f7FEiV/UPTVxQ3OoTeufHKqSqqNMS9gPHGQW29VJ5F8NeCyIVyXb
qH70oqNvMG0wHQYDVR0OBBYEFE1+cw9c+QCWpBAahHBuk9xQUmgPMB8GA1UdIwQY
MBaAFE1+cw9c+QCWpBAahHBuk9xQUmgPMA8GA1UdEwEB/wQFMAMBAf8wGgYDVR0R
BBMwEYcEfwAAAYIJbG9jYWxob3N0MAoGCCqGSM49BAMCA0kAMEYCIQCNBo8tKg9U
n7K2YjckSmYjtMi1es1DJbsyMZ3s3ZLTFgIhAJ023NfmnnoWojd5AQW+pE5XDM3L
nL18YBtOLfiP7OhG
-----END CERTIFICATE-----
`;

export const TEST_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgphBLya+oVMciPBqJ
J9vJDfBJv8uoRaxGwVd3aT/SSsuhRANCAATvAlUd4eQAd+d5mmz0EJdgCFuFvHx/
sUSJX9Q9NXFDc6hN658cqpKqo0xL2A8cZBbb1UnkXw14LIhXJduofvSi
-----END PRIVATE KEY-----
`;
