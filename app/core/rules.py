"""Each platform's publishing rules (platforms.md, "Limits"), and compose-time validation.

Adapters expose these as their capabilities; the editor, the importer and the CLI use the
same function, so a post is judged the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from app.core.models import MediaItem, MediaKind, Platform, PostContent, Problem, Severity
from app.core.text import CountingRule, count, measure

MB = 1_000_000
MiB = 1024 * 1024


@dataclass(frozen=True)
class PlatformRules:
    platform: Platform
    text_limit: int
    counting: CountingRule
    url_weight: int = 23
    max_media: int = 4
    max_images: int = 4
    max_videos: int = 1
    mixed_media: bool = False  # images and videos in one post
    image_types: frozenset[str] = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
    video_types: frozenset[str] = frozenset({"video/mp4", "video/quicktime"})
    max_image_bytes: int = 8 * MB
    max_video_bytes: int = 512 * MB
    requires_media: bool = False
    media_must_be_public_url: bool = False
    first_comment: bool = True
    threads: bool = True
    native_scheduling: bool = False
    native_scheduling_min_lead: timedelta = timedelta(minutes=5)
    min_carousel: int = 0  # when several items are sent, at least this many
    extra_byte_limit: int | None = None  # Bluesky: 3000 UTF-8 bytes as well as 300 graphemes
    notes: tuple[str, ...] = field(default=())

    def with_overrides(self, overrides: dict[str, object]) -> PlatformRules:
        """Rules adjusted by values a server reports (Mastodon's instance configuration)."""
        allowed = {k: v for k, v in overrides.items() if k in _OVERRIDABLE and isinstance(v, int)}
        return replace(self, **allowed) if allowed else self  # type: ignore[arg-type]


_OVERRIDABLE = {"text_limit", "url_weight", "max_media", "max_images", "max_image_bytes", "max_video_bytes"}

_IMG = frozenset({"image/jpeg", "image/png"})

RULES: dict[Platform, PlatformRules] = {
    Platform.SANDBOX: PlatformRules(Platform.SANDBOX, 500, CountingRule.GRAPHEMES, max_media=4),
    Platform.THREADS: PlatformRules(
        Platform.THREADS, 500, CountingRule.EMOJI_AS_UTF8_BYTES, max_media=20, max_images=20,
        max_videos=20, mixed_media=True, image_types=_IMG, max_image_bytes=8 * MB,
        max_video_bytes=1024 * MB, media_must_be_public_url=True, min_carousel=2,
    ),
    Platform.BLUESKY: PlatformRules(
        Platform.BLUESKY, 300, CountingRule.GRAPHEMES, max_media=4, max_images=4, max_videos=1,
        max_image_bytes=2_000_000, max_video_bytes=300_000_000, extra_byte_limit=3000,
        video_types=frozenset({"video/mp4"}),
    ),
    Platform.MASTODON: PlatformRules(
        Platform.MASTODON, 500, CountingRule.URL_WEIGHTED, max_media=4, max_images=4, max_videos=1,
        max_image_bytes=16 * MiB, max_video_bytes=99 * MiB, native_scheduling=True,
        native_scheduling_min_lead=timedelta(minutes=5),
    ),
    Platform.X: PlatformRules(
        Platform.X, 280, CountingRule.X_WEIGHTED, max_media=4, max_images=4, max_videos=1,
        max_image_bytes=5 * MB, max_video_bytes=512 * MB,
    ),
    Platform.LINKEDIN: PlatformRules(
        Platform.LINKEDIN, 3000, CountingRule.CHARACTERS, max_media=20, max_images=20, max_videos=1,
        max_image_bytes=36 * MB, max_video_bytes=500 * MB, threads=False, min_carousel=2,
    ),
    Platform.FACEBOOK: PlatformRules(
        Platform.FACEBOOK, 63206, CountingRule.CHARACTERS, max_media=10, max_images=10, max_videos=1,
        max_image_bytes=10 * MB, max_video_bytes=1024 * MB, threads=False, native_scheduling=True,
        native_scheduling_min_lead=timedelta(minutes=10),
    ),
    Platform.INSTAGRAM: PlatformRules(
        Platform.INSTAGRAM, 2200, CountingRule.CHARACTERS, max_media=10, max_images=10, max_videos=10,
        mixed_media=True, image_types=frozenset({"image/jpeg"}), max_image_bytes=8 * MB,
        max_video_bytes=1024 * MB, requires_media=True, media_must_be_public_url=True, threads=False,
        min_carousel=2,
    ),
    Platform.PINTEREST: PlatformRules(
        Platform.PINTEREST, 800, CountingRule.CHARACTERS, max_media=5, max_images=5, max_videos=1,
        max_image_bytes=20 * MB, max_video_bytes=2048 * MB, requires_media=True, first_comment=False,
        threads=False, min_carousel=2,
    ),
    Platform.TIKTOK: PlatformRules(
        Platform.TIKTOK, 2200, CountingRule.CHARACTERS, max_media=1, max_images=0, max_videos=1,
        max_video_bytes=4096 * MB, requires_media=True, first_comment=False, threads=False,
    ),
    Platform.YOUTUBE: PlatformRules(
        Platform.YOUTUBE, 5000, CountingRule.CHARACTERS, max_media=1, max_images=0, max_videos=1,
        max_video_bytes=256 * 1024 * MB, requires_media=True, threads=False, native_scheduling=True,
        native_scheduling_min_lead=timedelta(minutes=15),
    ),
}


def rules_for(platform: Platform, overrides: dict[str, object] | None = None) -> PlatformRules:
    rules = RULES[platform]
    return rules.with_overrides(overrides) if overrides else rules


def validate_content(content: PostContent, rules: PlatformRules) -> list[Problem]:
    """Everything wrong with `content` for this platform, each with a message a person can act on."""
    problems: list[Problem] = []
    p = rules.platform
    name = p.label

    def err(field_name: str, message: str, severity: Severity = Severity.ERROR) -> None:
        problems.append(Problem(field_name, message, severity, platform=p))

    text = content.text
    if not text.strip() and not content.media:
        err("text", "Write some text or add media.")
    if any(_is_broken(part) for part in (text, content.first_comment, *content.thread)):
        err("text", "The text contains a broken character (a lone surrogate); retype or paste it again.")
        return problems  # it cannot be counted, let alone published
    m = measure(text, rules.counting, rules.text_limit, rules.url_weight)
    if not m.fits:
        err("text", f"{name} allows {rules.text_limit} {rules.counting.description}; this text has "
                    f"{m.shown}. Shorten it by {m.excess}.")
    if rules.extra_byte_limit is not None:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > rules.extra_byte_limit:
            err("text", f"{name} allows {rules.extra_byte_limit:,} bytes of text; this text has {size:,}.")
    for i, part in enumerate(content.thread, start=2):
        if not rules.threads:
            err("text", f"{name} does not support threads; remove the extra parts.")
            break
        pm = measure(part, rules.counting, rules.text_limit, rules.url_weight)
        if not pm.fits:
            err("text", f"Part {i} of the thread has {pm.shown} {rules.counting.description}; {name} allows "
                        f"{pm.limit}. Shorten it by {pm.excess}.")
    if content.first_comment:
        if not rules.first_comment:
            err("first_comment", f"{name} has no first comment; it will not be posted.", Severity.WARNING)
        else:
            cm = measure(content.first_comment, rules.counting, rules.text_limit, rules.url_weight)
            if not cm.fits:
                err("first_comment", f"The first comment has {cm.shown} {rules.counting.description}; {name} "
                                     f"allows {cm.limit}. Shorten it by {cm.excess}.")
    problems.extend(validate_media(content.media, rules))
    return problems


def validate_media(media: tuple[MediaItem, ...], rules: PlatformRules) -> list[Problem]:
    p = rules.platform
    name = p.label
    out: list[Problem] = []

    def err(message: str) -> None:
        out.append(Problem("media", message, platform=p))

    if rules.requires_media and not media:
        err(f"{name} needs at least one image or video.")
        return out
    if not media:
        return out
    images = [m for m in media if m.kind in (MediaKind.IMAGE, MediaKind.GIF)]
    videos = [m for m in media if m.kind is MediaKind.VIDEO]
    if len(media) > rules.max_media:
        err(f"{name} takes at most {rules.max_media} attachments; remove {len(media) - rules.max_media}.")
    if images and rules.max_images == 0:
        err(f"{name} publishes videos only; remove the images.")
    elif len(images) > rules.max_images:
        err(f"{name} takes at most {rules.max_images} images.")
    if videos and rules.max_videos == 0:
        err(f"{name} does not take videos.")
    elif len(videos) > rules.max_videos:
        err(f"{name} takes at most {rules.max_videos} video{'s' if rules.max_videos > 1 else ''}.")
    if images and videos and not rules.mixed_media:
        err(f"{name} cannot mix images and videos in one post.")
    if rules.min_carousel and 1 < len(media) < rules.min_carousel:
        err(f"A {name} carousel needs at least {rules.min_carousel} items.")
    for i, item in enumerate(media, start=1):
        label = f"Attachment {i}"
        if rules.media_must_be_public_url and not item.is_url:
            err(f"{label}: {name} fetches media from a public web address; use an https:// URL "
                f"or set up a media host (Accounts › Instagram › Media host…).")
        allowed = rules.video_types if item.kind is MediaKind.VIDEO else rules.image_types
        if item.mime_type and item.mime_type not in allowed:
            kinds = ", ".join(sorted(t.split("/")[1].upper() for t in allowed))
            err(f"{label}: {name} does not accept {item.mime_type}; use {kinds}.")
        limit = rules.max_video_bytes if item.kind is MediaKind.VIDEO else rules.max_image_bytes
        if item.size_bytes is not None and item.size_bytes > limit:
            err(f"{label} is {item.size_bytes / MB:.1f} MB; {name} allows {limit / MB:.0f} MB.")
    return out


def text_count(text: str, rules: PlatformRules) -> int:
    return count(text, rules.counting, rules.url_weight)


def _is_broken(text: str) -> bool:
    """Lone surrogates (e.g. from undecodable command-line bytes) that no platform accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
