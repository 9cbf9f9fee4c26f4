/**
 * The gallery page as a Handlebars template. Only double-stash `{{…}}` is used, so every
 * value is HTML-escaped (quotes, backtick and `=` too, which keeps quoted attributes safe);
 * test/unit/gallery-page.test.ts fails if a raw `{{{…}}}` ever appears here.
 */
export const PAGE_TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<link rel="stylesheet" href="{{base}}/gallery.css">
<script src="{{base}}/gallery.js" defer></script>
</head>
<body data-refresh-seconds="{{refreshSeconds}}">
<a class="skip" href="#weeks">Skip to the students</a>
<header>
<h1>{{title}}</h1>
<p id="counts" class="counts" aria-live="polite"><strong>{{counts.live}}</strong> live · <strong>{{counts.notLive}}</strong> not live · {{counts.total}} {{counts.noun}}</p>
<p id="updated" class="updated">Updated <time datetime="{{updatedAt}}">{{updatedText}}</time></p>
</header>
<main>
<form id="filter-form" class="filter" role="search" hidden>
<label for="filter">Filter by name, login or status</label>
<input id="filter" type="search" autocomplete="off" spellcheck="false">
<output id="filter-result" for="filter" aria-live="polite"></output>
</form>
<div id="weeks">
{{#each weeks}}
<section aria-labelledby="week-{{id}}">
<h2 id="week-{{id}}">{{label}} <span class="week-count">{{live}} of {{total}} live</span></h2>
<ul class="cards">
{{#each students}}
<li class="card status-{{status}}" data-search="{{search}}">
<h3>{{displayName}}</h3>
<p class="login">@{{login}}</p>
<p class="status"><span class="badge"><span aria-hidden="true">{{symbol}} </span>{{statusText}}</span></p>
{{#if reason}}<p class="reason">{{reason}}</p>{{/if}}
{{#if answer}}
<p class="said">{{answerLabel}}</p>
<dl class="answer">
<dt>name</dt><dd>{{answer.name}}</dd>
<dt>github_username</dt><dd>{{answer.github_username}}</dd>
<dt>container_tag</dt><dd>{{answer.container_tag}}</dd>
</dl>
{{/if}}
<p class="open"><a href="{{href}}">Open the app<span class="visually-hidden"> of {{displayName}}</span></a></p>
<p class="checked">{{#if fromController}}Status from the controller{{else if checkedAt}}Checked <time datetime="{{checkedAt}}">{{checkedText}}</time>{{else}}Not checked yet{{/if}}{{#if lastLiveText}} · last live {{lastLiveText}}{{/if}}</p>
</li>
{{/each}}
</ul>
</section>
{{else}}
<p>No students yet.</p>
{{/each}}
</div>
</main>
<footer><p>The same data as JSON: <a href="{{apiPath}}">{{apiPath}}</a>. Each app's own <code>/student</code> is checked every {{refreshSeconds}} s.</p></footer>
</body>
</html>
`;
