import type { LocalizedText, VerifyResponse } from '@cert/common';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The public HTML page a person reaches from the QR code on a certificate. */
export function verificationPage(code: string, result: VerifyResponse | null, typeName: LocalizedText | undefined): string {
  const body = result
    ? `<p class="ok">この証明書は発行されたものです。<br><span lang="en">This certificate was issued by the municipality.</span></p>
       <dl>
         <dt>証明書 / Certificate</dt><dd>${esc(typeName?.ja ?? result.certificateType)} / ${esc(typeName?.en ?? '')}</dd>
         <dt>発行元 / Issued by</dt><dd>${esc(result.municipality.name)} (${esc(result.municipality.code)})</dd>
         <dt>発行日時 / Issued at</dt><dd>${esc(result.issuedAt)}</dd>
         <dt>文書ハッシュ / Document SHA-256</dt><dd><code>${esc(result.documentSha256)}</code></dd>
       </dl>
       <p class="note">個人情報はこのページには表示されません。紙面の内容と発行日をご確認ください。<br>
       <span lang="en">No personal data is shown here; compare the type and issue date with the paper.</span></p>`
    : `<p class="bad">この検証コードの証明書は見つかりません。<br><span lang="en">No valid certificate has this verification code.</span></p>`;
  return `<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>証明書の検証 / Certificate verification</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.6}
.ok{color:#0a5d1a;font-weight:bold}.bad{color:#a30000;font-weight:bold}dt{font-weight:bold;margin-top:.5rem}code{word-break:break-all}.note{color:#444}</style>
</head><body><h1>証明書の検証 <small lang="en">Certificate verification</small></h1>
<p>検証コード / Verification code: <strong>${esc(code)}</strong></p>${body}</body></html>`;
}
