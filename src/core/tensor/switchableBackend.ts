// A backend that forwards to a fast backend until told to use the reference backend for good: the
// trainer switches when a step computed on the fast backend comes out non-finite and the same step on
// the reference backend does not, so a broken engine never corrupts a run.
import type { NumericBackend } from './backend';
import { referenceBackend } from './referenceBackend';

export class SwitchableBackend implements NumericBackend {
  private current: NumericBackend;

  constructor(private readonly preferred: NumericBackend) {
    this.current = preferred;
  }

  get name(): string {
    return this.current.name;
  }

  get denseStepAbove(): number | undefined {
    return this.current.denseStepAbove;
  }

  get saeDenseStep(): NumericBackend['saeDenseStep'] {
    return this.current.saeDenseStep;
  }

  /** True while forwarding to something other than the reference backend. */
  get isFast(): boolean {
    return this.current !== referenceBackend;
  }

  /** The backend asked for, even after a switch. */
  get requested(): NumericBackend {
    return this.preferred;
  }

  useReference(): void {
    this.current = referenceBackend;
  }

  usePreferred(): void {
    this.current = this.preferred;
  }

  /** Disposes the preferred backend (its threads): the owner's call when the run is over. */
  dispose(): void {
    this.preferred.dispose?.();
  }

  matmul: NumericBackend['matmul'] = (a, b, bias) => this.current.matmul(a, b, bias);
  matmulTransA: NumericBackend['matmulTransA'] = (a, b) => this.current.matmulTransA(a, b);
  matmulTransB: NumericBackend['matmulTransB'] = (a, b) => this.current.matmulTransB(a, b);
  sparseMatmul: NumericBackend['sparseMatmul'] = (s, b, bias) => this.current.sparseMatmul(s, b, bias);
  sparseTransMatmulAcc: NumericBackend['sparseTransMatmulAcc'] = (s, a, out) => this.current.sparseTransMatmulAcc(s, a, out);
  sparseTransMatmul: NumericBackend['sparseTransMatmul'] = (s, a, transposed) => this.current.sparseTransMatmul(s, a, transposed);
  sampledDot: NumericBackend['sampledDot'] = (p, a, b, out) => this.current.sampledDot(p, a, b, out);
  matmulRowTopK: NumericBackend['matmulRowTopK'] = (a, b, bias, k, mask) => this.current.matmulRowTopK(a, b, bias, k, mask);
  matmulAbove: NumericBackend['matmulAbove'] = (a, b, bias, lower) => this.current.matmulAbove(a, b, bias, lower);
}
