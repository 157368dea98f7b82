menu-title = What would you like to create? Pick a category.
category-image = 🖼 Images
category-video = 🎬 Video
category-audio = 🎵 Audio
button-balance = 💰 Balance
button-history = 🕘 History
button-help = ❓ Help
button-back = ⬅️ Back
button-cancel = ✖️ Cancel
button-open-params = ⚙️ Set parameters
button-params-done = ➡️ Continue
category-pick-title = { $category }: choose a model. Prices are in credits per generation.
model-button = { $title } · { $price } cr
model-pick-title = { $title } — { $price } { $price ->
        [one] credit
       *[other] credits
    } per generation.
    { $description }
model-flux-pro-description = Photorealistic images with fine detail.
model-sdxl-description = Fast, versatile images in several styles.
model-veo-fast-description = Short video clips from a text description.
model-kling-description = Smooth motion video clips.
model-suno-description = Songs and music from a text description.
params-title = { $title }: parameters
params-prompt-missing = ✍️ Send your prompt as a message (up to { $max } characters).
params-prompt = Prompt: { $prompt }
params-option = { $name }: { $value }
option-aspect = Aspect ratio
option-style = Style
option-duration = Duration
option-length = Length
value-aspect-1x1 = 1:1
value-aspect-16x9 = 16:9
value-aspect-9x16 = 9:16
value-style-photo = Photo
value-style-anime = Anime
value-style-art = Art
value-duration-5 = 5 s
value-duration-10 = 10 s
value-length-30 = 30 s
value-length-120 = 2 min
confirm-title = Check your order: { $title }, { $price } { $price ->
        [one] credit
       *[other] credits
    }.
confirm-generate-soon = Generation opens soon: payments and the Generate button arrive with the next release.
help-text = Tracegram creates images, video and audio with AI models.
    /start — main menu
    /help — this help
    Pick a category, a model, send a prompt, set the options and confirm.
balance-not-open = The balance is not open yet: top-ups with Telegram payments arrive with the next release.
history-not-open = History is not open yet: it arrives together with generations in the next release.
text-outside-form = Use the buttons, or send /start for the main menu.
unknown-command = I don't know that command. Send /start for the main menu.
nothing-to-cancel = Nothing to cancel.
option-unchanged = Already selected.
prompt-empty = The prompt is empty: send some text describing what to create.
prompt-too-long = The prompt is too long: { $max } characters at most.
prompt-required = Send a prompt first.
reply-noop = Nothing to do.
reply-passive = The bot is restarting, try again in a few seconds.
reply-unknown-action = This button is not recognised. Send /start for a fresh menu.
reply-state-mismatch = This button is outdated. Use the latest message or send /start.
reply-expired = This message is too old. Send /start for a fresh menu.
reply-validation-failed = That value is not valid here.
reply-rate-limit = Too many requests, please wait a minute.
reply-downstream-timeout = The service is slow to answer, please try again. Support code: { $cid }
reply-db-error = We could not save your progress, please try again in a moment. Support code: { $cid }
reply-internal-error = Something went wrong on our side. Please try again; if it repeats, tell support this code: { $cid }
