#!/usr/bin/env bash
# Regenerates the SAML response fixtures with an identity provider we did not write
# (pysaml2, signing with xmlsec1): `pip install pysaml2`, `apt-get install xmlsec1`.
# The tests read each fixture's IssueInstant as "now", so regenerating changes no test.
set -euo pipefail
cd "$(dirname "$0")"
idp=../../../../interop/saml/idp.py
keys=../../../../interop/saml/keys
sp=https://latchkey.test/saml/c1/metadata
acs=https://latchkey.test/saml/c1/acs
md=$(mktemp)
trap 'rm -f "$md"' EXIT
cat > "$md" <<XML
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="$sp">
<md:SPSSODescriptor WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="$acs" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>
XML
# Our AuthnRequest with the ID the tests expect, over the Redirect binding.
request=$(python3 - "$sp" "$acs" <<'PY'
import base64, sys, zlib
sp, acs = sys.argv[1:]
xml = ('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
       'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_req1" Version="2.0" '
       'IssueInstant="2026-01-01T00:00:00Z" Destination="https://idp.test/saml/sso" '
       f'AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
       f'<saml:Issuer>{sp}</saml:Issuer></samlp:AuthnRequest>')
c = zlib.compressobj(9, zlib.DEFLATED, -15)
print(base64.b64encode(c.compress(xml.encode()) + c.flush()).decode())
PY
)
respond() {
  local out=$1; shift
  python3 "$idp" respond --entity-id https://idp.test/saml --sp-metadata "$md" --email alice@acme.test \
    --attr givenName=Alice --attr sn=Liddell "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["SAMLResponse"])' > "$out"
}
respond signed-assertion.b64 --request "$request" --sign assertion
respond signed-response.b64 --request "$request" --sign response
respond signed-both.b64 --request "$request" --sign both
respond unsigned.b64 --request "$request" --sign none
respond other-key.b64 --request "$request" --sign assertion --key "$keys/other.key" --cert "$keys/other.crt"
respond sha1.b64 --request "$request" --sign assertion --sign-alg sha1
respond ecdsa.b64 --request "$request" --sign assertion --sign-alg ecdsa-sha256 --key "$keys/idp-ec.key" --cert "$keys/idp-ec.crt"
# Encrypted to the test SP key (keys/sp.crt): assertion signed then encrypted (the common
# form), the response signed over the ciphertext, and the algorithms we refuse.
enc=(--encrypt-cert "$keys/sp.crt")
respond encrypted-gcm.b64 --request "$request" --sign assertion --encrypt aes256-gcm "${enc[@]}"
respond encrypted-cbc.b64 --request "$request" --sign assertion --encrypt aes128-cbc "${enc[@]}"
respond encrypted-signed-response.b64 --request "$request" --sign response --encrypt aes256-gcm "${enc[@]}"
respond encrypted-unsigned.b64 --request "$request" --sign none --encrypt aes256-gcm "${enc[@]}"
respond encrypted-3des.b64 --request "$request" --sign assertion --encrypt 3des "${enc[@]}"
respond encrypted-rsa15.b64 --request "$request" --sign assertion --encrypt aes256-gcm --key-transport rsa-1_5 "${enc[@]}"
respond unsolicited.b64 --unsolicited --sp-entity-id "$sp" --acs-url "$acs" --sign assertion
echo "fixtures written"
