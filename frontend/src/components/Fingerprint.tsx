import { Fragment } from 'react'

/**
 * A certificate fingerprint, set so that it can be read pair by pair and compared: a line may
 * break after any colon (a <wbr>), never inside a pair. Its text is the fingerprint unchanged.
 */
export function Fingerprint({ value }: { value: string }) {
  return (
    <code className="fingerprint">
      {value.split(':').map((pair, i) => (
        <Fragment key={i}>
          {i > 0 && (
            <>
              :<wbr />
            </>
          )}
          {pair}
        </Fragment>
      ))}
    </code>
  )
}

/**
 * The join page's introduction. An invite link of a server with a self-signed certificate carries
 * its fingerprint (#sha256=…): the browser warned about the certificate, and comparing the
 * fingerprint with the admin's is how the invited person knows it is their team's server.
 */
export function JoinIntro({ fingerprint }: { fingerprint: string | null }) {
  return (
    <>
      <p>You were invited to this Herald server. Choose how you will sign in.</p>
      {fingerprint && (
        <p className="join-fingerprint">
          Compare this fingerprint with the one your admin sees: <Fingerprint value={fingerprint} />. If they
          differ, do not sign up: someone may be intercepting the connection.
        </p>
      )}
    </>
  )
}
