import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePostcat, receivedClient, vanishedId } from '../../src/queue/postcat.js';

// Abridged from real `postcat -q` output of Postfix 3.7 (the system test's queue).
const SMTP_MESSAGE = `*** ENVELOPE RECORDS deferred/9/9E3A32241A5 ***
message_size:             266             682               1               0             266               0
sender: spam@spammer.example
named_attribute: log_client_address=198.51.100.16
named_attribute: client_name=unknown
named_attribute: client_address=198.51.100.16
recipient: x@hold.pban.test
*** MESSAGE CONTENTS deferred/9/9E3A32241A5 ***
Received: from client.example (unknown [198.51.100.16])
	by mail.pban.test (Postfix) with ESMTP id 9E3A32241A5
	for <x@hold.pban.test>; Tue,  1 Dec 2026 15:22:38 +0000 (UTC)
Subject: spam2

pban queue test
*** HEADER EXTRACTED deferred/9/9E3A32241A5 ***
*** MESSAGE FILE END deferred/9/9E3A32241A5 ***
`;

const BOUNCE = `*** ENVELOPE RECORDS deferred/7/74A6322406A ***
sender: 
recipient: victim@forged1.invalid
*** MESSAGE CONTENTS deferred/7/74A6322406A ***
Received: by mail.pban.test (Postfix)
	id 74A6322406A; Tue,  1 Dec 2026 15:23:44 +0000 (UTC)
From: Mail Delivery System <MAILER-DAEMON@mail.pban.test>
Content-Type: multipart/report; report-type=delivery-status;
	boundary="EF9DE2246F9.1796138624/mail.pban.test"

--EF9DE2246F9.1796138624/mail.pban.test
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.pban.test
X-Postfix-Queue-ID: EF9DE2246F9
X-Postfix-Sender: rfc822; victim@forged1.invalid

--EF9DE2246F9.1796138624/mail.pban.test
Content-Description: Undelivered Message
Content-Type: message/rfc822
Content-Transfer-Encoding: 8bit

Return-Path: <victim@forged1.invalid>
Received: from client.example (unknown
	[IPv6:2001:DB8:1::10])
	by mail.pban.test (Postfix) with ESMTP id EF9DE2246F9
	for <nobody@relay.pban.test>; Tue,  1 Dec 2026 15:23:43 +0000 (UTC)
Received: from forged (liar.example [192.0.2.99])
	by elsewhere.example with SMTP
From: <victim@forged1.invalid>

pban queue test

--EF9DE2246F9.1796138624/mail.pban.test--
*** HEADER EXTRACTED deferred/7/74A6322406A ***
*** MESSAGE FILE END deferred/7/74A6322406A ***
`;

const LOCAL = `*** ENVELOPE RECORDS deferred/D/D19182247 ***
sender: alice@mail.pban.test
named_attribute: log_message_origin=local
*** MESSAGE CONTENTS deferred/D/D19182247 ***
Received: by mail.pban.test (Postfix, from userid 0)
	id D19182247; Tue,  1 Dec 2026 15:23:44 +0000 (UTC)
Subject: local

hello
*** HEADER EXTRACTED deferred/D/D19182247 ***
*** MESSAGE FILE END deferred/D/D19182247 ***
`;

describe('postcat parsing', () => {
  it('takes an SMTP message\'s client from its envelope', () => {
    assert.deepEqual(parsePostcat(SMTP_MESSAGE).get('9E3A32241A5'), { client: '198.51.100.16', source: 'envelope', bouncedId: null });
  });

  it('takes a bounce\'s client from the first Received: header of the message it returns, not from the forger\'s', () => {
    assert.deepEqual(parsePostcat(BOUNCE).get('74A6322406A'), { client: '2001:db8:1::10', source: 'bounced-message', bouncedId: 'EF9DE2246F9' });
  });

  it('knows no client for local mail', () => {
    assert.deepEqual(parsePostcat(LOCAL).get('D19182247'), { client: null, source: null, bouncedId: null });
  });

  it('reads several queue files from one run', () => {
    const all = parsePostcat(SMTP_MESSAGE + BOUNCE + LOCAL);
    assert.deepEqual([...all.keys()], ['9E3A32241A5', '74A6322406A', 'D19182247']);
  });

  it('leaves out a queue file cut short (it vanished while postcat read it)', () => {
    assert.equal(parsePostcat(SMTP_MESSAGE.split('*** HEADER EXTRACTED')[0]!).size, 0);
  });

  it('reads the client of a Postfix Received: header, IPv4 and IPv6', () => {
    assert.equal(receivedClient('Received: from helo.example (host.example [192.0.2.7]) by mx'), '192.0.2.7');
    assert.equal(receivedClient('Received: from helo (unknown [IPv6:2001:db8::7])'), '2001:db8::7');
    assert.equal(receivedClient('Received: by mail.pban.test (Postfix, from userid 0)'), null);
  });

  it('names the queue id postcat could not open', () => {
    assert.equal(vanishedId('postcat: fatal: open queue file NOSUCHID: No such file or directory\n'), 'NOSUCHID');
    assert.equal(vanishedId('postcat: fatal: open queue file ABC: Permission denied\n'), null);
  });
});
