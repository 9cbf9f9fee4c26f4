/**
 * What an anonymous pull of an image would do, as one verdict from a closed set, each
 * with words for the student. Only some verdicts are the student's fault; the transient
 * ones never remove or block anything.
 */

export type Verdict =
  | {
      readonly kind: 'pullable';
      readonly digest: string;
      readonly mediaType: string;
      readonly platforms: readonly string[];
      /** A single image whose config blob (its platform) did not come: judged again on the next check, never kept. */
      readonly platformUnread?: true;
    }
  | { readonly kind: 'private'; readonly detail: string }
  | { readonly kind: 'repository-not-found' }
  | { readonly kind: 'tag-not-found'; readonly tag: string; readonly existingTags: readonly string[] | undefined }
  | {
      readonly kind: 'platform-missing';
      readonly required: string;
      readonly platforms: readonly string[];
      /** The config type of a manifest that is no container image (a Helm chart, an artifact). */
      readonly artifact?: string;
    }
  | { readonly kind: 'rate-limited'; readonly retryAfterSeconds: number | undefined }
  | { readonly kind: 'unreachable'; readonly reason: string };

/** Verdicts that only the student can fix. */
export function isStudentFault(verdict: Verdict): boolean {
  return (
    verdict.kind === 'private' ||
    verdict.kind === 'repository-not-found' ||
    verdict.kind === 'tag-not-found' ||
    verdict.kind === 'platform-missing'
  );
}

/** Verdicts about the registry, not the image: keep whatever was running. */
export function isTransient(verdict: Verdict): boolean {
  return verdict.kind === 'rate-limited' || verdict.kind === 'unreachable';
}

export interface VerdictText {
  readonly message: string;
  readonly hint: string;
}

/**
 * What the student reads for a verdict about `image`, a valid reference (only checked
 * references get verdicts), so the fixes can show the student's own commands whole.
 */
export function describeVerdict(verdict: Verdict, image: string): VerdictText {
  switch (verdict.kind) {
    case 'pullable':
      return {
        message: `${image} can be pulled anonymously (${verdict.digest}; ${verdict.platforms.join(', ') || (verdict.platformUnread ? 'platform not read: the registry did not send its config; asked again on the next check' : 'platform not stated')}).`,
        hint: 'Nothing to fix.',
      };
    case 'private':
      return {
        message: `${image} cannot be pulled without logging in: the package is private (${verdict.detail}).`,
        hint: 'Make the package public: on GitHub open the package, then Package settings → Change visibility → Public.',
      };
    case 'repository-not-found':
      return {
        message: `The registry has no repository for ${image}.`,
        hint: `Check the spelling of the owner and image name, and that you pushed the image (docker push ${image}).`,
      };
    case 'tag-not-found': {
      const tags = verdict.existingTags;
      const known =
        tags === undefined
          ? ''
          : tags.length === 0
            ? ' The repository has no tags yet.'
            : ` Tags that exist: ${tags.slice(0, 10).join(', ')}${tags.length > 10 ? `, and ${tags.length - 10} more` : ''}.`;
      return {
        message: `The tag "${verdict.tag}" of ${image} does not exist.${known}`,
        hint: `Push that tag (docker push ${image}), or write a tag that exists.`,
      };
    }
    case 'platform-missing':
      return {
        message:
          verdict.artifact !== undefined
            ? `${image} is not a container image: its config is ${verdict.artifact} (a Helm chart or another artifact), and the cluster runs only images.`
            : verdict.platforms.length === 0
              ? `${image} holds no image for any platform (nothing, or only build attestations), and the cluster runs ${verdict.required}.`
              : `${image} is built for ${verdict.platforms.join(', ')}, but the cluster runs ${verdict.required}.`,
        hint: `Build for the cluster too: docker buildx build --platform ${verdict.required} -t ${image} --push . (Apple Silicon Macs build linux/arm64 by default).`,
      };
    case 'rate-limited':
      return {
        message: `The registry is rate-limiting requests${verdict.retryAfterSeconds === undefined ? '' : ` (retry after ${verdict.retryAfterSeconds} s)`}; the image could not be checked.`,
        hint: 'Nothing for you to fix: classops checks again later and keeps what is running.',
      };
    case 'unreachable':
      return {
        message: `The registry could not be reached to check ${image}: ${verdict.reason}.`,
        hint: 'Nothing for you to fix if the registry is up: classops checks again later and keeps what is running.',
      };
  }
}
