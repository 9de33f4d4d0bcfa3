// The package's types as a TypeScript partner uses them, checked by tests/sdk_node.rs with
// `tsc --noEmit --strict` against the installed package (no @types/node: the package's types
// stand alone). Never run: the lines marked @ts-expect-error must fail to type-check.

import {
  Budget,
  Busy,
  DEFAULT_RETRIES,
  Denied,
  DeniedByPolicy,
  EvidenceSummary,
  OnboardingRefused,
  OverBudget,
  OverBudgetReason,
  Partner,
  ReceiptFacts,
  TrustFabricError,
  Verdict,
  fromKind,
  onboard,
  verifyEvidence,
  verifyReceipt,
  SANDBOX_PURPOSE,
  type DatasetClass,
  type Groth16Submission,
  type Onboarded,
} from '@trust-fabric/partner';

export async function fromAnInviteToAVerifiedReceipt(invite: string): Promise<ReceiptFacts> {
  const me: Onboarded = await onboard({ invite, connect: 'localhost:4433', tenant: 'pilot-x' });
  const partner: Partner = await Partner.connect({ stateDir: me.dir, retries: DEFAULT_RETRIES });
  try {
    const keyId: string = await partner.registerKey('verification_key.json');
    const verdict: Verdict = await partner.submitGroth16({
      keyId, proof: 'proof.json', public: 'public.json', purpose: 'kyc', datasetClass: 'P1',
    });
    const ok: boolean = verdict.valid && verdict.verdict === 'valid';
    const requestId: number = verdict.requestId;
    void [ok, requestId, verdict.receiptEnvelope().signatures[0]?.keyid];
    return verifyReceipt(verdict, me.receiptPublicKey);
  } finally {
    await partner.close();
  }
}

export async function everyInputShape(partner: Partner, keyId: string): Promise<Verdict[]> {
  const fullProve = { proof: { pi_a: ['1'] }, publicSignals: ['33', '14'] };
  const spread: Groth16Submission = { keyId, ...fullProve, purpose: 'kyc', datasetClass: 'P2' };
  const bytes = new Uint8Array(48);
  return Promise.all([
    partner.submitGroth16(spread),
    partner.submitGroth16({ keyId, proof: bytes, public: '[]', purpose: 'kyc', datasetClass: 'P0' }),
    partner.submitBls({ publicKeys: [bytes, 'ab'], messages: 'cd', signature: '0xef',
      purpose: 'kyc', datasetClass: 'P1' }),
  ]);
}

export async function withOtherFiles(): Promise<Budget[]> {
  const partner = await Partner.connectFiles({
    address: 'appliance.example.com:4433', ca: 'ca.pem', cert: 'client.pem', key: 'client.key',
    serverName: 'appliance.example.com', timeoutMs: 5000,
  });
  const budgets = await partner.budgets();
  const remaining: number = budgets[0]?.remaining ?? 0;
  const purpose: string | null = budgets[0]?.purpose ?? null;
  const resets: number | null = budgets[0]?.resetsAtUnixMs ?? null;
  const granted: number = budgets[0]?.granted ?? 0;
  void [remaining, purpose, resets, granted];
  return budgets;
}

export async function anEvidencePreview(
  partner: Partner, keyId: string, key: string,
): Promise<number[]> {
  const sandbox: Verdict = await partner.submitGroth16({
    keyId, proof: 'proof.json', public: 'public.json', purpose: SANDBOX_PURPOSE, datasetClass: 'P1',
  });
  const facts: ReceiptFacts = verifyReceipt(sandbox, key);
  const preview: EvidenceSummary = await partner.evidencePreview(
    [sandbox, facts, facts.ledgerSeq], { out: 'evidence-preview' });
  const again: EvidenceSummary = verifyEvidence('evidence-preview', key);
  const treeSize: number | null = again.logTreeSize;
  const files: readonly string[] = preview.files;
  void [treeSize, files, preview.notYetLogged, preview.applianceKeyId, preview.charged];
  return [...again.receipts];
}

export function errorsAreTyped(error: unknown): string {
  if (error instanceof OnboardingRefused) {
    return error.reason;
  }
  if (error instanceof OverBudget) {
    const reason: OverBudgetReason = error.reason;
    // @ts-expect-error an over-budget reason is 'cap' or 'fleet-share'
    const wrong: OverBudgetReason = 'share';
    void wrong;
    return reason === OverBudgetReason.FLEET_SHARE ? 'retry elsewhere' : 'wait or ask';
  }
  if (error instanceof Busy) {
    const wait: number | null = error.retryAfterMs;
    return `busy ${wait}`;
  }
  if (error instanceof TrustFabricError) {
    const sameClass: typeof Denied = DeniedByPolicy;
    void sameClass;
    return `${error.kind}: ${error.message}`;
  }
  const made: TrustFabricError = fromKind('over-budget', 'spent', null);
  return made.kind;
}

export function mistakesAreCaught(partner: Partner): void {
  const dataset: DatasetClass = 'P1';
  // @ts-expect-error a dataset class is P0, P1 or P2
  const wrong: DatasetClass = 'P7';
  // @ts-expect-error submitGroth16 takes its public inputs as `public` or `publicSignals`
  void partner.submitGroth16({ keyId: 'ab', proof: 'proof.json', purpose: 'kyc', datasetClass: dataset });
  // @ts-expect-error onboard needs a tenant
  void onboard({ invite: 'tfi1.x', connect: 'localhost:4433' });
  // @ts-expect-error a Partner is made by connect() or connectFiles()
  void new Partner();
  // @ts-expect-error a verdict is read only
  (null as unknown as Verdict).verdict = 'valid';
  // @ts-expect-error the evidence preview is written into a folder: `out` is required
  void partner.evidencePreview(7, {});
  // @ts-expect-error receipts are named by ledger sequence number, verdict or facts
  void partner.evidencePreview('receipt.json', { out: 'evidence-preview' });
  void wrong;
}
