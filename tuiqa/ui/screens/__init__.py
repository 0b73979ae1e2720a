"""The screens: thin (bindings, layout, actions that ask a view or the session and put what
they get in widgets). A screen never imports another screen or the app: it asks the app for
one (:meth:`tuiqa.ui.base.ProjectScreen.open`)."""
